#!/usr/bin/env bash
# Azurite, Microsoft's Azure Storage emulator, from npm into .venv/azurite: the Azure Blob
# Storage server of the artifact-store tests (tests/azurite.py). Needs node and npm.
# Usage: bash scripts/install_azurite.sh
set -euo pipefail
cd "$(dirname "$0")/.."

AZURITE_VERSION=3.37.0
PREFIX=.venv/azurite
BIN="$PREFIX/node_modules/.bin/azurite-blob"

command -v npm >/dev/null || { echo "install_azurite: npm is missing" >&2; exit 1; }
if [ -x "$BIN" ] && [ "$(cat "$PREFIX/.version" 2>/dev/null)" = "$AZURITE_VERSION" ]; then
  echo "install_azurite: azurite $AZURITE_VERSION already in $PREFIX"
  exit 0
fi
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --no-save --loglevel=error "azurite@$AZURITE_VERSION"
"$BIN" --version >/dev/null
echo "$AZURITE_VERSION" >"$PREFIX/.version"
echo "install_azurite: azurite $AZURITE_VERSION in $PREFIX"
