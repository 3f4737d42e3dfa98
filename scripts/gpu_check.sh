#!/usr/bin/env bash
# One command for a machine with CUDA: the tests marked `gpu` (training with and without
# bf16 autocast, a worker slot per device, inference on the GPU), then the inference
# benchmark on CUDA. Without CUDA the tests skip and say why. Budget: under 8 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python
"$PY" - <<'PYEOF'
import torch
print("torch", torch.__version__, "cuda:", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
PYEOF
timeout 240 "$PY" -m pytest -q -m gpu -rs tests/test_gpu.py
if "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  timeout 240 "$PY" benchmarks/inference.py --device cuda --requests 1000 --big-repeats 20
else
  echo "no CUDA device: the GPU benchmark is skipped"
fi
