#!/usr/bin/env bash
# Run HERE (with registry access), before a GPU session's device check: downloads into .whl/
# the wheels the device machine's image lacks (it has torch, numpy, scikit-learn, onnx,
# pyarrow, httpx, aiohttp, uvloop, typer, rich, prometheus-client, safetensors, pytest...),
# for its Python 3.12 on x86-64, at the versions this project's .venv tests. Then:
#   device run: carry [".whl"], command "bash scripts/gpu_check.sh"
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
NEEDED="fastapi starlette pydantic pydantic-core annotated-types annotated-doc typing-inspection
pydantic-settings python-dotenv uvicorn httptools sqlalchemy alembic mako orjson
python-multipart sse-starlette opentelemetry-api importlib-metadata psycopg psycopg-binary"
rm -rf .whl && mkdir -p .whl
for name in $NEEDED; do
  version=$("$PY" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p' || true)
  spec=${version:+$name==$version}
  "$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 -d .whl "${spec:-$name}"
done
du -sh .whl
