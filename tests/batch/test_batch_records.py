"""How a batch job's chunks are recorded: a group at a time (every
AESVC_BATCH_RECORD_EVERY_S or RECORD_BYTES), on torch lanes of one thread each without
touching the worker's own thread count, and a job that fails leaves no blob of a chunk it
stored but had not recorded."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from service.batch import runner
from service.batch.runner import BatchRun
from service.config import Settings
from service.inference.backends.base import Backend
from service.training.schemas import JobStatus
from service.training.trainer import TrainingFailed
from tests.batch.conftest import DATASET, MODEL, N_ROWS, download, run_attempt
from tests.factories import run_worker

FAIL_AT = 5


def submit(client: TestClient, output: str) -> str:
    body = {"model": MODEL, "dataset": DATASET, "operation": "encode", "output": output}
    response = client.post("/v1/batch-jobs", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def chunks_done(client: TestClient, job_id: str) -> list[int]:
    history = client.get(f"/v1/jobs/{job_id}/history", params={"limit": 100}).json()
    return [event["chunks_done"] for event in history["epochs"]]


@pytest.mark.parametrize(
    ("every_s", "group_bytes", "events"),
    [
        (3600.0, 1 << 30, [8]),  # neither trigger: one group, recorded at the end
        (0.0, 1 << 30, list(range(1, 9))),  # the time since the last record
        (3600.0, 1, list(range(1, 9))),  # the bytes held
    ],
)
def test_chunks_are_recorded_a_group_at_a_time(
    client: TestClient,
    settings: Settings,
    world: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    every_s: float,
    group_bytes: int,
    events: list[int],
) -> None:
    monkeypatch.setattr(runner, "RECORD_BYTES", group_bytes)
    job_id = submit(client, "codes")
    recording = settings.model_copy(update={"batch_record_every_s": every_s})
    assert run_worker(recording, max_jobs=1) == 1
    assert client.get(f"/v1/batch-jobs/{job_id}").json()["status"] == "succeeded"
    assert chunks_done(client, job_id) == events
    assert len(download(client, "codes")) == N_ROWS


class TorchLanes(BatchRun):
    """A batch job's attempt, each lane's torch thread count seen."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seen: list[int] = []

    def compute(self, backend: Backend, block: np.ndarray, position: int, first: int) -> np.ndarray:
        result = super().compute(backend, block, position, first)
        self.seen.append(torch.get_num_threads())
        return result


def test_torch_lanes_run_on_one_thread_each_and_leave_the_workers_count(
    client: TestClient, settings: Settings, world: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "_device", lambda: "cpu")  # the CPU's lanes, on a GPU host too
    before = torch.get_num_threads()
    job_id = submit(client, "codes")
    on_torch = settings.model_copy(update={"inference_backend": "torch"})
    status, attempt = run_attempt(on_torch, TorchLanes)
    assert status == JobStatus.SUCCEEDED
    assert isinstance(attempt, TorchLanes) and attempt.seen == [1] * 8
    assert torch.get_num_threads() == before
    assert client.get(f"/v1/batch-jobs/{job_id}").json()["status"] == "succeeded"
    codes = download(client, "codes")
    encoded = client.post(f"/v1/models/{MODEL}/versions/1/encode", json={"inputs": world.tolist()})
    want = np.asarray(encoded.json()["codings"], dtype=np.float32)
    np.testing.assert_allclose(codes, want, rtol=1e-5, atol=1e-6)


class FailsAt(BatchRun):
    dropped: list[str] = []  # the chunks stored and not recorded when the output was dropped

    def compute(self, backend: Backend, block: np.ndarray, position: int, first: int) -> np.ndarray:
        if position == FAIL_AT:
            raise TrainingFailed(f"chunk {position} cannot be computed")
        return super().compute(backend, block, position, first)

    def drop_output(self) -> None:
        self.dropped = [chunk.sha256 for chunk in self.stored]
        super().drop_output()


def test_a_failed_job_leaves_no_blob_of_a_chunk_it_stored_but_had_not_recorded(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    job_id = submit(client, "codes")
    status, attempt = run_attempt(settings, FailsAt, record_every_s=3600.0)  # none recorded
    assert status == JobStatus.FAILED
    job = client.get(f"/v1/batch-jobs/{job_id}").json()
    assert job["status"] == "failed" and f"chunk {FAIL_AT}" in job["error"], job
    assert isinstance(attempt, FailsAt) and not attempt.stored  # dropped, and forgotten
    stored = attempt.dropped
    assert len(stored) == FAIL_AT  # the chunks before the failing one were stored
    store = client.app.state.ctx.store  # type: ignore[attr-defined]
    assert not any(store.exists(sha) for sha in stored)
    assert client.get("/v1/datasets/codes").status_code == 404
