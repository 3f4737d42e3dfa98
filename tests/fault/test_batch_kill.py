"""SIGKILL of the worker running a batch job past half its chunks: the supervisor starts a
new worker, the job goes on from its first unrecorded chunk, and the output dataset holds
exactly the input's rows, each chunk recorded once, in order, equal to the encode
endpoint's answers."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.datasets import chunks
from service.main import create_app
from tests.batch.conftest import train_tiny, upload
from tests.factories import random_matrix, wait_for
from tests.fault.test_worker_kills import _wait_dead
from tests.live import LiveServer

pytestmark = pytest.mark.slow

N_ROWS, N_FEATURES, CHUNK_ROWS = 6000, 6, 10  # 600 chunks: the kill lands mid-job


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"lease_timeout_s": 3.0, "heartbeat_interval_s": 0.3})


@pytest.fixture
def seeded(fast: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[np.ndarray]:
    """The dataset `rows` in small chunks and model `tiny` trained on it, in this process."""
    monkeypatch.setattr(chunks, "CHUNK_BYTES", CHUNK_ROWS * N_FEATURES * 4)
    X = random_matrix(N_ROWS, N_FEATURES, seed=11)
    with TestClient(create_app(fast, start_workers=False)) as client:
        upload(client, "rows", X)
        train_tiny(client, fast)
    yield X


def _past_half(http: httpx.Client, job_id: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        job: dict[str, Any] = http.get(f"/v1/batch-jobs/{job_id}").json()
        assert job["status"] in ("queued", "running"), ("finished before the kill", job)
        progress = job["progress"] or {}
        half = progress.get("chunks_done", 0) * 2 >= progress.get("chunks_total", 1)
        return job if job["status"] == "running" and job["worker"] and half else None

    return wait_for(ready, timeout_s=120, interval_s=0.01)  # type: ignore[no-any-return]


def _finished(http: httpx.Client, job_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = http.get(f"/v1/batch-jobs/{job_id}").json()
        return job if job["status"] in ("succeeded", "failed", "cancelled") else None

    return wait_for(ended, timeout_s=240, interval_s=0.2)  # type: ignore[no-any-return]


def test_a_worker_killed_past_half_resumes_and_writes_each_row_once(
    fast: Settings, seeded: np.ndarray
) -> None:
    # a record per chunk: the kill lands past half and before the end, as the test needs
    env = {"AESVC_WORKER_RESTART_DELAY_S": "0.2", "AESVC_BATCH_RECORD_EVERY_S": "0"}
    server = LiveServer(fast, workers=1, env=env).start()
    try:
        with server.client() as http:
            body = {"model": "tiny", "dataset": "rows", "operation": "encode", "output": "codes"}
            job_id = http.post("/v1/batch-jobs", json=body).json()["id"]
            job = _past_half(http, job_id)
            os.kill(job["worker"]["pid"], signal.SIGKILL)
            _wait_dead(job["worker"]["pid"])
            done = _finished(http, job_id)
            assert done["status"] == "succeeded" and done["attempt"] == 2, done
            killed = f":{job['worker']['pid']} stopped heartbeating"
            assert killed in done["attempt_errors"][0]["error"], done

            events = http.get(f"/v1/jobs/{job_id}/history", params={"limit": 1000}).json()
            total = N_ROWS // CHUNK_ROWS
            done_at = [e["chunks_done"] for e in events["epochs"]]  # a chunk recorded each
            assert done_at == sorted(set(done_at)) and done_at[-1] == total  # none recorded twice
            first = [e["chunks_done"] for e in events["epochs"] if e["attempt"] == 1]
            assert total // 2 <= max(first) < total  # the kill came past half, before the end
            assert events["epochs"][-1]["rows_done"] == N_ROWS

            dataset = http.get("/v1/datasets/codes").json()
            assert dataset["n_rows"] == N_ROWS and dataset["id"] == done["output_dataset_id"]
            codes = np.load(io.BytesIO(http.get("/v1/datasets/codes/data").content))
            assert codes.shape == (N_ROWS, 2)
            for start in (0, N_ROWS // 2 - 5, N_ROWS - 10):
                rows = seeded[start : start + 10].tolist()
                answer = http.post("/v1/models/tiny/versions/1/encode", json={"inputs": rows})
                want = np.asarray(answer.json()["codings"], dtype=np.float32)
                np.testing.assert_allclose(codes[start : start + 10], want, rtol=1e-5, atol=1e-6)
    finally:
        server.stop(signal.SIGKILL)
