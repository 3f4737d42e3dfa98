"""Whose chunks an attempt may remove, and when a job may complete.

An attempt that ends the job (failed, cancelled) removes the job's chunks; one whose lease
has moved on removes only the blobs it stored and did not record (the new owner's records
are its own). Every attempt, however it ends, leaves no blob it stored unrecorded: a record
that fails, a lease lost, a hand-back. A job cancelled while its worker stops keeps no
chunk. And a job completes only if its version is still ready and its recorded chunks hold
every row, in order, once."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from service.batch import output
from service.batch.pipeline import ChunkPipeline
from service.batch.runner import BatchRun
from service.batch.tables import BatchChunk
from service.config import Settings
from service.context import AppContext
from service.datasets.chunks import ChunkedRows
from service.datasets.tables import DatasetChunk
from service.inference.backends.base import Backend
from service.registry.deletion import archive_version
from service.training import lifecycle
from service.training import service as jobs
from service.training.schemas import JobStatus
from service.training.tables import Job
from service.training.trainer import TrainingFailed
from tests.batch.conftest import DATASET, MODEL, N_ROWS, run_attempt


def submit(client: TestClient, *, max_attempts: int | None = None) -> str:
    body = {"model": MODEL, "dataset": DATASET, "operation": "encode", "output": "codes"}
    response = client.post("/v1/batch-jobs", json=body)
    assert response.status_code == 202, response.text
    job_id = str(response.json()["id"])
    if max_attempts is not None:
        with client.app.state.ctx.session_factory() as session:  # type: ignore[attr-defined]
            session.execute(update(Job).where(Job.id == job_id).values(max_attempts=max_attempts))
            session.commit()
    return job_id


def claimed_attempt(
    ctx: AppContext, cls: type[BatchRun], owner: str = "test:1:claimed", **kwargs: Any
) -> BatchRun:
    """An attempt of `cls` at the next job; `owner` not run_attempt's (another worker)."""
    job = lifecycle.claim_next_job(ctx.session_factory, owner=owner, host="t", pid=1)
    assert job is not None
    return cls(
        factory=ctx.session_factory, store=ctx.store, job=job, owner=owner,
        stopping=threading.Event(), **kwargs,
    )  # fmt: skip


# -- a worker whose lease moved on fails: the new owner's chunks stay ----------------------

B_PAUSES_AFTER = 3  # chunks the new owner records before it pauses


class NewOwner(BatchRun):
    """Attempt B: records B_PAUSES_AFTER chunks (one record each), then waits for `go`."""

    recorded = threading.Event()
    go = threading.Event()

    def one_chunk(self, pipe: ChunkPipeline[np.ndarray], rows: ChunkedRows, position: int,
                  result: np.ndarray, summary: Any, started: Any) -> None:  # fmt: skip
        super().one_chunk(pipe, rows, position, result, summary, started)
        if position + 1 == B_PAUSES_AFTER:
            assert pipe.drain()
            self.recorded.set()
            assert self.go.wait(60)


class StaleOwner(BatchRun):
    """Attempt A: while it computes chunk 0 the job is requeued (as the reaper does), B
    claims it and records chunks; then A's chunk fails."""

    settings: Settings
    b_outcome: list[Any]
    b_thread: threading.Thread

    def compute(self, backend: Backend, block: np.ndarray, position: int, first: int) -> np.ndarray:
        if position == 0:
            moved = lifecycle.retry_or_fail(
                self.factory, job_id=self.job.id, owner=self.owner, error="stale heartbeat"
            )
            assert moved == JobStatus.QUEUED
            b = partial_run(self.settings, self.b_outcome)
            self.b_thread = threading.Thread(target=b)
            self.b_thread.start()
            assert NewOwner.recorded.wait(60)
            raise TrainingFailed("chunk 0: a read error seen by the stale worker")
        return super().compute(backend, block, position, first)


def partial_run(settings: Settings, outcome: list[Any]) -> Any:
    return lambda: outcome.append(run_attempt(settings, NewOwner, record_every_s=0.0))


def test_a_worker_whose_lease_moved_on_and_fails_leaves_the_new_owners_chunks(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    job_id = submit(client)
    NewOwner.recorded.clear()
    NewOwner.go.clear()
    ctx = AppContext.from_settings(settings)
    try:
        stale = claimed_attempt(ctx, StaleOwner, heartbeat_interval_s=0.3, record_every_s=3600.0)
        assert isinstance(stale, StaleOwner)
        stale.settings, stale.b_outcome = settings, []
        stale.run()  # A fails; its finish_row is refused: not its lease any more
        with ctx.session_factory() as session:
            kept = session.scalar(
                select(func.count()).select_from(BatchChunk).where(BatchChunk.job_id == job_id)
            )
        NewOwner.go.set()
        stale.b_thread.join(120)
    finally:
        NewOwner.go.set()
        ctx.close()
    assert kept == B_PAUSES_AFTER, "the stale worker removed the new owner's recorded chunks"
    assert stale.b_outcome[0][0] == JobStatus.SUCCEEDED
    done = client.get(f"/v1/batch-jobs/{job_id}").json()
    assert done["status"] == "succeeded", done
    with client.app.state.ctx.session_factory() as session:  # type: ignore[attr-defined]
        rows = session.scalar(
            select(func.sum(DatasetChunk.n_rows)).where(
                DatasetChunk.dataset_id == done["output_dataset_id"]
            )
        )
    assert rows == N_ROWS


# -- no blob stored and not recorded outlives its attempt ---------------------------------


class Seen(BatchRun):
    """Every chunk blob this attempt stored, whatever becomes of `stored`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.all_stored: list[str] = []

    def record_stored(self) -> bool:
        self.all_stored += [c.sha256 for c in self.stored]
        return super().record_stored()


def left_in_store(client: TestClient, blobs: list[str]) -> list[str]:
    store = client.app.state.ctx.store  # type: ignore[attr-defined]
    return [sha for sha in blobs if store.exists(sha)]


def test_a_record_that_fails_leaves_no_blob_behind(
    client: TestClient, settings: Settings, world: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("the record's transaction failed")

    monkeypatch.setattr(output, "record_leased", broken)
    job_id = submit(client, max_attempts=1)
    status, attempt = run_attempt(settings, Seen, record_every_s=3600.0)  # one record, at the end
    assert status == JobStatus.FAILED
    assert client.get(f"/v1/batch-jobs/{job_id}").json()["status"] == "failed"
    assert isinstance(attempt, Seen) and len(attempt.all_stored) == 8
    assert left_in_store(client, attempt.all_stored) == []


class ReapedMidway(Seen):
    """Before its one record, the reaper takes the job (attempts exhausted: failed)."""

    def record_stored(self) -> bool:
        if self.stored:
            ended = lifecycle.retry_or_fail(
                self.factory, job_id=self.job.id, owner=self.owner,
                error="worker stopped heartbeating", store=self.store,
            )  # fmt: skip
            assert ended == JobStatus.FAILED
        return super().record_stored()


def test_a_job_failed_by_the_reaper_keeps_no_blob_of_its_stale_worker(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    job_id = submit(client, max_attempts=1)
    status, attempt = run_attempt(settings, ReapedMidway, record_every_s=3600.0)
    assert status is None  # the lease was lost
    assert client.get(f"/v1/batch-jobs/{job_id}").json()["status"] == "failed"
    assert isinstance(attempt, Seen) and len(attempt.all_stored) == 8
    assert left_in_store(client, attempt.all_stored) == []


# -- cancelled while the worker stops ------------------------------------------------------

STOP_AT = 3


class CancelledThenStopped(BatchRun):
    dropped: list[str] = []

    def drop_output(self) -> None:
        self.dropped = [chunk.sha256 for chunk in self.stored]
        super().drop_output()

    def one_chunk(self, pipe: ChunkPipeline[np.ndarray], rows: ChunkedRows, position: int,
                  result: np.ndarray, summary: Any, started: Any) -> None:  # fmt: skip
        super().one_chunk(pipe, rows, position, result, summary, started)
        if position + 1 == STOP_AT:
            # the user cancels (a request's write session: BEGIN IMMEDIATE on SQLite) ...
            with lifecycle.immediate_session(self.factory) as session:
                jobs.cancel_job(session=session, job_id=self.job.id, store=self.store, kind="batch")
            self.stopping.set()  # ... and the worker gets SIGTERM, before its next heartbeat


def test_a_job_cancelled_while_its_worker_stops_keeps_no_chunk(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    job_id = submit(client)
    ctx = AppContext.from_settings(settings)
    try:
        attempt = claimed_attempt(
            ctx, CancelledThenStopped, heartbeat_interval_s=60.0, record_every_s=0.0
        )
        assert attempt.run() == JobStatus.CANCELLED
    finally:
        ctx.close()
    assert client.get(f"/v1/batch-jobs/{job_id}").json()["status"] == "cancelled"
    with client.app.state.ctx.session_factory() as session:  # type: ignore[attr-defined]
        left = list(session.scalars(select(BatchChunk.sha256).where(BatchChunk.job_id == job_id)))
    assert left == []
    assert left_in_store(client, attempt.dropped) == []


# -- completion ----------------------------------------------------------------------------

ARCHIVE_AT = 3


class ArchivedMidway(BatchRun):
    def compute(self, backend: Backend, block: np.ndarray, position: int, first: int) -> np.ndarray:
        if position == ARCHIVE_AT:  # DELETE /v1/models/{name}/versions/1 while the job runs
            with self.factory() as session:
                archive_version(session=session, store=self.store, name=MODEL, version=1)
        return super().compute(backend, block, position, first)


def test_a_version_archived_while_the_job_runs_fails_it(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    job_id = submit(client)
    status, _ = run_attempt(settings, ArchivedMidway)
    assert status == JobStatus.FAILED
    job = client.get(f"/v1/batch-jobs/{job_id}").json()
    assert job["status"] == "failed" and "archived" in job["error"], job
    assert client.get("/v1/datasets/codes").status_code == 404
    with client.app.state.ctx.session_factory() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).select_from(BatchChunk)) == 0


class LosesARecord(BatchRun):
    """Its chunk 5's record vanishes before completion (what a second worker's drop did)."""

    def register(self, result: Any) -> JobStatus | None:
        with self.factory() as session:
            session.execute(
                BatchChunk.__table__.delete().where(
                    BatchChunk.job_id == self.job.id, BatchChunk.position == 5
                )
            )
            session.commit()
        return super().register(result)


def test_a_job_whose_recorded_chunks_miss_one_fails_instead_of_completing(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    job_id = submit(client)
    status, _ = run_attempt(settings, LosesARecord, record_every_s=0.0)
    assert status == JobStatus.FAILED
    job = client.get(f"/v1/batch-jobs/{job_id}").json()
    assert job["status"] == "failed" and "skip position 5" in job["error"], job
    assert client.get("/v1/datasets/codes").status_code == 404
