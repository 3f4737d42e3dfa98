"""A version's coding covariance is code_size² numbers: 4,194,304 at a code size of 2,048,
50 MB of JSON in its row. Every read of the version (its GET, every page of its model's
versions) answered it: one GET took 1.3 s and answered 45 MB, and eight at once (a `read`
key, 100 bytes each) took 16.6 s, grew the server by 1.24 GB and held /healthz 13.7 s. A
read now leaves `coding_cov` out past a code size of MAX_READ_COV_CODE_SIZE, and the
covariance has a column of its own that such a read never reads (migration 0013); generate
still draws from it, and the safetensors download's metadata still holds it."""

from __future__ import annotations

import json
import threading
import time

import httpx
import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from safetensors.torch import save as save_safetensors

from service.config import Settings
from service.registry.service import MAX_READ_COV_CODE_SIZE
from tests.live import LiveServer
from tests.registry.builders import make_model

CODE = 512
URL = "/v1/models/wide/versions"


def test_a_version_of_a_large_code_reads_without_its_covariance(client: TestClient) -> None:
    assert CODE > MAX_READ_COV_CODE_SIZE
    model, config = make_model(kind="linear", n_features=CODE + 1, code_size=CODE)
    cov = np.eye(CODE) + np.random.default_rng(0).random((CODE, CODE)) * 1e-3
    cov = (cov + cov.T) / 2
    metrics = {"coding_mean": [0.0] * CODE, "coding_cov": cov.tolist(), "threshold": 1.0}
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    metadata = {"config": json.dumps(config), "metrics": json.dumps(metrics)}
    created = client.post(
        URL, files={"file": ("m.safetensors", save_safetensors(tensors, metadata))}
    )
    assert created.status_code == 201, created.text[:500]
    for path in (f"{URL}/1", f"{URL}/latest", URL):
        r = client.get(path)
        assert r.status_code == 200, r.text[:500]
        assert len(r.content) < 256 << 10, f"{path}: {len(r.content)} bytes"
        read = r.json()["data"][0] if path == URL else r.json()
        assert "coding_cov" not in read["metrics"], path
        assert read["metrics"]["coding_mean"] == metrics["coding_mean"]
        assert read["metrics"]["threshold"] == 1.0
    assert len(created.content) < 256 << 10
    generated = client.post(f"{URL}/1/generate", json={"n": 2, "seed": 0})
    assert generated.status_code == 200, generated.text[:500]


def test_a_version_of_a_small_code_reads_with_its_covariance(client: TestClient) -> None:
    model, config = make_model(kind="linear", n_features=5, code_size=4)
    metrics = {"coding_mean": [0.0] * 4, "coding_cov": np.eye(4).tolist()}
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    metadata = {"config": json.dumps(config), "metrics": json.dumps(metrics)}
    created = client.post(
        URL, files={"file": ("m.safetensors", save_safetensors(tensors, metadata))}
    )
    assert created.status_code == 201, created.text[:500]
    assert client.get(f"{URL}/1").json()["metrics"] == metrics


def _rss_mb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) >> 10
    raise AssertionError("no VmRSS")


@pytest.mark.slow
@pytest.mark.alone
def test_reads_of_a_version_of_a_large_code_hold_little_and_stall_nothing(
    settings: Settings,
) -> None:
    """Eight GETs at once of a version whose code size is 2,048: the server grew 1.24 GB and
    /healthz waited 13.7 s; leaving coding_cov out of the answer alone, /healthz 2.1 s."""
    code = 2048
    model, config = make_model(kind="linear", n_features=code + 1, code_size=code)
    small = {  # float8 weights: the file fits the 64 MiB body with its metadata
        k: v.contiguous().to(torch.float8_e4m3fn) if v.ndim == 2 else v.contiguous()
        for k, v in model.state_dict().items()
    }
    cov = np.round(np.random.default_rng(0).random((code, code)) * 0.1, 8)
    metrics = json.dumps({"coding_mean": [0.0] * code, "coding_cov": cov.tolist()})
    blob = save_safetensors(small, {"config": json.dumps(config), "metrics": metrics})
    del cov, metrics
    server = LiveServer(settings, workers=0).start()
    assert server.process is not None
    pid = server.process.pid
    with server.client(timeout=120) as http:
        created = http.post(URL, files={"file": ("m.safetensors", blob)})
        assert created.status_code == 201, created.text[:500]
        assert http.get(f"{URL}/1").status_code == 200  # what one read costs is paid once
    before, peak, waits, done = _rss_mb(pid), [0], [0.0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb(pid))
            started = time.monotonic()
            httpx.get(f"{server.base_url}/healthz", timeout=60)
            waits[0] = max(waits[0], time.monotonic() - started)
            time.sleep(0.05)

    def read() -> None:
        with server.client(timeout=120) as http:
            assert http.get(f"{URL}/1").status_code == 200

    watcher = threading.Thread(target=watch)
    watcher.start()
    readers = [threading.Thread(target=read) for _ in range(8)]
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join()
    done.set()
    watcher.join()
    grown = peak[0] - before
    assert grown < 300 and waits[0] < 1.0, f"grew {grown} MB, /healthz waited {waits[0]:.1f} s"
