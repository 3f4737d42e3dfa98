"""The two inference backends side by side, in process: the median time of one `run` of
each operation on the benchmark's model shape (the digits dense AE, 64-128-64-8, untrained),
at 1, 64 and 8192 rows, on ONNX Runtime and on torch (eager), each on 1 and on all of
torch's intra-op threads.

    .venv/bin/python benchmarks/backends.py [--repeats 2000]

Prints and saves benchmarks/results/backends.json (µs per batch).
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"


def median_us(run: object, x: np.ndarray, repeats: int) -> float:
    assert callable(run)
    for _ in range(20):
        run(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()
    from service.inference.backends.base import OPERATIONS, input_width
    from service.inference.backends.onnxruntime import OnnxRuntimeBackend
    from service.inference.backends.torch import TorchBackend
    from service.zoo.serving import build_serving_model
    from service.zoo.spec import ModelSpec

    spec = ModelSpec.model_validate({"architecture": {"code_size": 8, "hidden_sizes": [128, 64]}})
    torch.manual_seed(0)
    model = build_serving_model(spec, 64, None).eval()
    all_threads = torch.get_num_threads()
    results: dict[str, object] = {}
    for threads in sorted({1, all_threads}):
        torch.set_num_threads(threads)
        backends = {
            "onnxruntime": OnnxRuntimeBackend(model, device="cpu", threads=threads),
            "torch": TorchBackend(model, device="cpu"),
        }
        for op in OPERATIONS:
            for rows in (1, 64, 8192):
                x = np.random.default_rng(0).uniform(0, 16, (rows, input_width(model, op)))
                x = x.astype(np.float32)
                repeats = max(20, args.repeats // (1 + rows // 64))
                for name, backend in backends.items():
                    key = f"{name}/{op}/{rows}_rows/{threads}_threads"
                    results[key] = median_us(functools.partial(backend.run, op), x, repeats)
                    print(key, results[key], flush=True)
    torch.set_num_threads(all_threads)
    results["setup"] = {"cpus": all_threads, "python": platform.python_version()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "backends.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
