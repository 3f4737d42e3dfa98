"""Artifacts on an S3 server (moto's, on 127.0.0.1) against a local folder, in one run.

Targets (issue 27):
- cold model load of ~10 MB weights (fetch, sha256 check, safetensors, build): S3 at most
  2x the folder;
- warm load through the read-through cache: at most 1.1x the folder;
- a 1 GB dataset upload: peak RSS growth of the API process at most 200 MB;
- the same training job with S3 artifacts: at most 1.10x the wall time on a folder.
Prints and saves JSON to benchmarks/results/storage.json.

    .venv/bin/python benchmarks/storage.py [--upload-mb 1024] [--repeats 7] [--epochs 40]
    .venv/bin/python benchmarks/storage.py --only-upload   # rerun the upload, keep the rest
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import torch
from safetensors.torch import load as load_safetensors

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.training import recipe, service_seconds
from service.artifacts import ArtifactStore, FolderStore
from service.config import Settings
from service.object_store import ObjectStore, ReadThroughCache
from service.registry.service import weights_blob
from service.zoo.serving import load_serving_model
from tests.live import LiveServer
from tests.registry.builders import make_model
from tests.s3 import S3Server

RESULTS = Path(__file__).resolve().parent / "results" / "storage.json"


def ten_mb_model() -> tuple[bytes, dict[str, Any]]:
    """784 -> 1024 -> 512 -> 32 and back: about 2.7 M float32 weights, 10.7 MB."""
    model, config = make_model(n_features=784, code_size=32, hidden_sizes=[1024, 512])
    return weights_blob(model.state_dict(), config, {}), config


def load_seconds(store: ArtifactStore, sha256: str, config: dict[str, Any]) -> float:
    start = time.perf_counter()
    blob = store.get_bytes(sha256)
    load_serving_model(config, load_safetensors(blob))
    return time.perf_counter() - start


def fetch_seconds(store: ArtifactStore, sha256: str) -> float:
    start = time.perf_counter()
    store.get_bytes(sha256)
    return time.perf_counter() - start


def model_loads(s3: S3Server, tmp: Path, repeats: int) -> dict[str, Any]:
    blob, config = ten_mb_model()
    folder = FolderStore(tmp / "folder-artifacts")
    url = f"s3://{s3.create_bucket()}/bench"
    cold = ObjectStore(url, spool_dir=tmp / "spool")  # no cache: every load reads S3
    cache = ReadThroughCache(tmp / "cache", max_bytes=1 << 30)
    warm = ObjectStore(url, spool_dir=tmp / "spool", cache=cache)
    sha = folder.put_bytes(blob).sha256
    cold.put_bytes(blob)
    stores = {"folder": folder, "s3_cold": cold, "s3_warm": warm}
    for store in stores.values():
        load_seconds(store, sha, config)  # imports, allocator, connection pool: not measured
    loads: dict[str, list[float]] = {name: [] for name in stores}
    fetches: dict[str, list[float]] = {name: [] for name in stores}
    for _ in range(repeats):  # interleaved, so drift hits every store alike
        for name, store in stores.items():
            loads[name].append(load_seconds(store, sha, config))
            fetches[name].append(fetch_seconds(store, sha))  # the bytes alone, checked
    folder_s, cold_s, warm_s = (statistics.median(loads[n]) for n in stores)
    fetch = {name: statistics.median(runs) for name, runs in fetches.items()}
    return {
        "weights_bytes": len(blob),
        "fetch_only_median_s": fetch,
        "fetch_only_ratio_s3_cold_over_folder": fetch["s3_cold"] / fetch["folder"],
        "fetch_only_ratio_s3_warm_over_folder": fetch["s3_warm"] / fetch["folder"],
        "load_s": loads,
        "fetch_only_s": fetches,
        "cold_ratio_s3_over_folder": cold_s / folder_s,
        "warm_ratio_cached_over_folder": warm_s / folder_s,
        "cold_target": 2.0,
        "warm_target": 1.1,
    }


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def upload_rss(s3: S3Server, tmp: Path, upload_mb: int) -> dict[str, Any]:
    n_features = 64
    rows = upload_mb * (1 << 20) // (4 * n_features)
    path = tmp / "big.npy"
    big = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, n_features))
    for start in range(0, rows, 1 << 20):  # written in slices: the benchmark stays small too
        stop = min(rows, start + (1 << 20))
        big[start:stop] = np.random.default_rng(start).random((stop - start, n_features))
    big.flush()
    del big
    settings = Settings(
        data_dir=tmp / "upload-var", artifact_url=f"s3://{s3.create_bucket()}/bench"
    )
    env = {**s3.env(), "AESVC_BUILTIN_DATASETS": "false"}
    server = LiveServer(settings, workers=0, env=env).start()
    try:
        assert server.process is not None
        pid = server.process.pid
        before_kb = rss_kb(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM, the peak RSS
        start = time.perf_counter()
        with path.open("rb") as file, httpx.Client(timeout=3600) as http:
            response = http.post(
                f"{server.base_url}/v1/datasets",
                files={"file": ("big.npy", file, "application/octet-stream")},
                data={"name": "big"},
            )
        elapsed = time.perf_counter() - start
        peak_kb = rss_kb(pid, "VmHWM")
    finally:
        server.stop()
    return {
        "upload_bytes": path.stat().st_size,
        "status": response.status_code,
        "upload_s": elapsed,
        "api_rss_before_mb": before_kb / 1024,
        "api_peak_rss_growth_mb": (peak_kb - before_kb) / 1024,
        "target_mb": 200,
    }


def training_jobs(s3: S3Server, tmp: Path, epochs: int, repeats: int) -> dict[str, Any]:
    walls: dict[str, list[float]] = {"folder": [], "s3": []}
    servers = {}
    for name, url in (("folder", None), ("s3", f"s3://{s3.create_bucket()}/bench")):
        settings = Settings(
            data_dir=tmp / f"train-{name}",
            artifact_url=url,
            poll_interval_s=0.02,
            heartbeat_interval_s=2,
        )
        servers[name] = LiveServer(settings, workers=1, env=s3.env()).start()
    try:
        for run in range(repeats):  # interleaved, so drift hits both sides alike
            for name, server in servers.items():
                walls[name].append(service_seconds(server, epochs, run))
    finally:
        for server in servers.values():
            server.stop()
    return {
        "recipe": recipe(epochs),
        "dataset": "digits (1797 x 64)",
        "folder_s": walls["folder"],
        "s3_s": walls["s3"],
        "ratio_s3_over_folder": min(walls["s3"]) / min(walls["folder"]),
        "target_ratio": 1.10,
    }


def rerun_upload(upload_mb: int) -> None:
    """The upload figure alone, merged into the saved results (the other figures kept)."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        s3 = S3Server(tmp / "moto.log").start()
        os.environ.update(s3.env())
        try:
            upload = upload_rss(s3, tmp, upload_mb)
        finally:
            s3.stop()
    result = json.loads(RESULTS.read_text())
    result["dataset_upload"] = upload
    result["meets_targets"]["upload_rss"] = (
        upload["status"] == 201 and upload["api_peak_rss_growth_mb"] <= 200
    )
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(upload, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upload-mb", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--training-repeats", type=int, default=3)
    parser.add_argument("--only-upload", action="store_true")
    args = parser.parse_args()
    if args.only_upload:
        rerun_upload(args.upload_mb)
        return
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        s3 = S3Server(tmp / "moto.log").start()
        os.environ.update(s3.env())  # this process's stores, and the servers it starts
        try:
            loads = model_loads(s3, tmp, args.repeats)
            upload = upload_rss(s3, tmp, args.upload_mb)
            training = training_jobs(s3, tmp, args.epochs, args.training_repeats)
        finally:
            s3.stop()
    result = {
        "benchmark": "storage",
        "s3_server": "moto (standalone server, 127.0.0.1)",
        "model_load": loads,
        "dataset_upload": upload,
        "training": training,
        "meets_targets": {
            "cold_load": loads["cold_ratio_s3_over_folder"] <= 2.0,
            "warm_load": loads["warm_ratio_cached_over_folder"] <= 1.1,
            "upload_rss": upload["status"] == 201 and upload["api_peak_rss_growth_mb"] <= 200,
            "training": training["ratio_s3_over_folder"] <= 1.10,
        },
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
