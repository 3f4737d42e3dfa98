"""The same training recipe as a service job and as a bare trainer call, in one run.

Target: the service's wall time (POST /v1/jobs to `succeeded`, through a real server with
one local worker) is at most 1.10x the bare `train()` call's. Prints and saves JSON.

    .venv/bin/python benchmarks/training.py [--epochs 40] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import torch
from sklearn.datasets import load_digits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.config import Settings
from service.training.trainer import train
from service.zoo.spec import ModelSpec
from tests.live import LiveServer

RESULTS = Path(__file__).resolve().parent / "results" / "training.json"


def recipe(epochs: int) -> dict[str, Any]:
    return {
        "architecture": {"kind": "dense", "code_size": 8, "hidden_sizes": [128, 64]},
        "training": {"epochs": epochs, "batch_size": 32, "early_stopping_patience": None},
        "preprocessing": "minmax",
    }


def bare_seconds(epochs: int) -> float:
    X = load_digits().data.astype("float32")
    spec = ModelSpec.model_validate(recipe(epochs))
    start = time.perf_counter()
    train(spec=spec, X=X, image_shape=None)
    return time.perf_counter() - start


def service_seconds(server: LiveServer, epochs: int, run: int) -> float:
    body = {"model_name": f"bench-{run}", "dataset": "digits", **recipe(epochs)}
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        start = time.perf_counter()
        job_id = http.post("/v1/jobs", json=body).json()["id"]
        while True:
            status = http.get(f"/v1/jobs/{job_id}").json()["status"]
            if status in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
    if status != "succeeded":
        raise SystemExit(f"job {job_id} ended {status}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "var", poll_interval_s=0.02, heartbeat_interval_s=2
        )
        server = LiveServer(settings, workers=1).start()
        try:
            service_s, bare_s = [], []
            for run in range(args.repeats):  # interleaved, so drift hits both sides alike
                bare_s.append(bare_seconds(args.epochs))
                service_s.append(service_seconds(server, args.epochs, run))
        finally:
            server.stop()
    result = {
        "benchmark": "training",
        "recipe": recipe(args.epochs),
        "dataset": "digits (1797 x 64)",
        "bare_s": bare_s,
        "service_s": service_s,
        "ratio_service_over_bare": min(service_s) / min(bare_s),
        "target_ratio": 1.10,
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
    }
    result["meets_target"] = result["ratio_service_over_bare"] <= 1.10
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
