#!/usr/bin/env bash
# One command for a machine with CUDA: the tests marked `gpu` (training with and without
# bf16 autocast, a worker slot per device, inference on the GPU and its CUDA graphs, a batch
# job on CUDA), then the inference benchmark on CUDA and the split of a GPU batch's time.
# Without CUDA the tests skip and say why. It takes a few minutes; the timeouts below add up to 540 s, under
# the device's 600 s a command. A failing test does not stop the benchmarks (device time is
# scarce), but the script exits non-zero.
# On the lent GPU machine: `bash scripts/gpu_wheels.sh` here first, then run this there
# with .whl carried.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
# The device machine has torch with CUDA but not this project's web stack, and no registry:
# scripts/gpu_wheels.sh (run beforehand where pip works) fills .whl/, carried along.
if ! "$PY" -c "import fastapi, sqlalchemy, alembic" 2>/dev/null && [ -d .whl ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/aesvc-site .whl/*.whl
  export PYTHONPATH=/tmp/aesvc-site${PYTHONPATH:+:$PYTHONPATH}
fi
"$PY" - <<'PYEOF'
import torch
print("torch", torch.__version__, "cuda:", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
PYEOF
tests=0
timeout 150 "$PY" -m pytest -q -m gpu -rs tests/test_gpu.py || tests=$?
if "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  # a_variant: the same service with every batch eager (no CUDA graphs), same run
  timeout 300 "$PY" benchmarks/inference.py --device cuda --requests 1000 --rounds 3 --big-repeats 20 \
    --variant AESVC_INFERENCE_CUDA_GRAPH_ROWS=0
else
  echo "no CUDA device: the GPU benchmark is skipped"
fi
exit "$tests"
