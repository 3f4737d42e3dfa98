#!/usr/bin/env bash
# The SDKs generated from openapi/openapi.json.
#   clients/python: openapi-python-client (pinned in pyproject's dev extras); --write
#     regenerates it, else it is checked fresh, warning-free and mypy-clean.
#   clients/typescript: openapi-typescript's types, checked fresh, and a small program that
#     uses them type-checked with tsc (skipped with --no-typescript).
#   openapi/openapi.json itself: `redocly lint` with redocly.yaml (node, so with TypeScript).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
write=false typescript=true
for arg in "$@"; do
  case $arg in
    --write) write=true ;;
    --no-typescript) typescript=false ;;
    *) echo "usage: $0 [--write] [--no-typescript]" >&2; exit 2 ;;
  esac
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$VENV/bin/openapi-python-client" generate --path openapi/openapi.json --meta setup \
  --config clients/openapi-python-client.yaml --custom-template-path clients/python-templates \
  --output-path "$out/python" >"$out/generator.log" 2>&1 || { cat "$out/generator.log"; exit 1; }
if grep -qiE "warning|error|unsupported|cannot" "$out/generator.log"; then
  cat "$out/generator.log" >&2
  echo "openapi-python-client warned (above): fix the schema" >&2
  exit 1
fi
if $write; then
  rm -rf clients/python
  cp -r "$out/python" clients/python
  echo "wrote clients/python"
elif ! diff -r -x __pycache__ -x .mypy_cache "$out/python" clients/python >/dev/null; then
  diff -r -x __pycache__ -x .mypy_cache "$out/python" clients/python | head -20 >&2
  echo "clients/python is out of date: run \`make clients\`" >&2
  exit 1
else
  echo "clients/python is up to date (openapi-python-client: no warnings)"
fi
(cd clients/python && "../../$VENV/bin/mypy" --cache-dir=/dev/null aesvc_client >/dev/null) || {
  (cd clients/python && "../../$VENV/bin/mypy" --cache-dir=/dev/null aesvc_client) >&2
  echo "mypy fails on the generated client" >&2
  exit 1
}

$typescript || exit 0
command -v npm >/dev/null || {
  echo "npm is missing: .ci/run installs nodejs and npm (or pass --no-typescript)" >&2
  exit 1
}
cd clients/typescript
[ -d node_modules/openapi-typescript ] && [ -d node_modules/typescript ] && [ -d node_modules/@redocly/cli ] ||
  npm ci --no-audit --no-fund --loglevel=error
if $write; then
  npx --no-install openapi-typescript ../../openapi/openapi.json -o src/schema.d.ts --default-non-nullable=false --silent
else
  npx --no-install openapi-typescript ../../openapi/openapi.json -o src/schema.d.ts --default-non-nullable=false --check ||
    { echo "clients/typescript/src/schema.d.ts is out of date: run \`make clients\`" >&2; exit 1; }
fi
npx --no-install tsc --noEmit -p .
# The schema itself, against Redocly's recommended-strict rules (redocly.yaml).
report=$(npx --no-install redocly lint ../../openapi/openapi.json --config ../../redocly.yaml \
  --format=codeframe 2>&1) || {
  echo "$report" | grep -v -E '[║╔╚]' >&2
  echo "redocly lint fails on openapi/openapi.json" >&2
  exit 1
}
echo "openapi/openapi.json passes redocly lint (recommended-strict)"
echo "clients/typescript type-checks"
