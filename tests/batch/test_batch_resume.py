"""A batch job stopped between chunks goes on from the first chunk it had not recorded:
each chunk is written once, in order, and the output holds exactly the dataset's rows. A
job that ends without completing (cancelled, failed) leaves no chunk and no dataset."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import xxhash
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.batch.output import OutputSummary, Rate
from service.batch.pipeline import ChunkPipeline
from service.batch.runner import BatchRun
from service.batch.tables import BatchChunk
from service.config import Settings
from service.datasets.chunks import ChunkedRows
from service.datasets.tables import DatasetChunk
from service.training import lifecycle
from service.training.schemas import JobStatus
from service.training.tables import Job
from tests.batch.conftest import CHUNK_ROWS, DATASET, MODEL, N_ROWS, download, run_attempt
from tests.factories import run_worker

STOP_AFTER = 3


class StopsAfter(BatchRun):
    """A worker told to stop (as by SIGTERM) once it has recorded STOP_AFTER chunks."""

    def one_chunk(
        self,
        pipe: ChunkPipeline[np.ndarray],
        rows: ChunkedRows,
        position: int,
        result: np.ndarray,
        summary: OutputSummary,
        started: Rate,
    ) -> None:
        super().one_chunk(pipe, rows, position, result, summary, started)
        if position + 1 == STOP_AFTER:
            self.stopping.set()


def stopped_attempt(settings: Settings) -> JobStatus | None:
    """Claim the queued job and run it until it stops after STOP_AFTER chunks."""
    return run_attempt(settings, StopsAfter, record_every_s=3600.0)[0]  # a group ends at the stop


def recorded(client: TestClient, job_id: str) -> list[str]:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        query = select(BatchChunk.sha256).where(BatchChunk.job_id == job_id)
        return list(session.scalars(query.order_by(BatchChunk.position)))


def submit(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/batch-jobs", json={"model": MODEL, "dataset": DATASET, **body})
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_stopped_job_resumes_at_its_first_missing_chunk(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    job = submit(client, operation="encode", output="codes")
    assert stopped_attempt(settings) == JobStatus.QUEUED  # handed back
    assert len(recorded(client, job["id"])) == STOP_AFTER
    halfway = client.get(f"/v1/batch-jobs/{job['id']}").json()
    assert halfway["status"] == "queued" and halfway["progress"]["chunks_done"] == STOP_AFTER
    assert client.get("/v1/datasets/codes").status_code == 404

    one_group = settings.model_copy(update={"batch_record_every_s": 3600.0})
    assert run_worker(one_group, max_jobs=1) == 1
    done = client.get(f"/v1/batch-jobs/{job['id']}").json()
    assert done["status"] == "succeeded", done
    events = client.get(f"/v1/jobs/{job['id']}/history", params={"limit": 100}).json()["epochs"]
    # recorded a group at a time (all 8 of these fit one), each chunk once, in order
    assert [e["chunks_done"] for e in events] == [STOP_AFTER, 8]
    assert {e["attempt"] for e in events} == {1}  # a hand-back is not an attempt
    assert recorded(client, job["id"]) == []  # moved to the dataset

    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        chunks = session.execute(
            select(DatasetChunk.position, DatasetChunk.first_row, DatasetChunk.n_rows)
            .where(DatasetChunk.dataset_id == done["output_dataset_id"])
            .order_by(DatasetChunk.position)
        ).all()
        checks = session.execute(
            select(DatasetChunk.sha256, DatasetChunk.xxh3).where(
                DatasetChunk.dataset_id == done["output_dataset_id"]
            )
        ).all()
    assert [tuple(c) for c in chunks] == [
        (i, i * CHUNK_ROWS, min(CHUNK_ROWS, N_ROWS - i * CHUNK_ROWS)) for i in range(8)
    ]
    # each attempt's chunks carry the xxh3 their reads are checked against
    for sha, xxh3 in checks:
        assert xxh3 == xxhash.xxh3_64_hexdigest(ctx.store.path_of(sha).read_bytes())
    codes = download(client, "codes")
    response = client.post(f"/v1/models/{MODEL}/versions/1/encode", json={"inputs": world.tolist()})
    want = np.asarray(response.json()["codings"], dtype=np.float32)
    np.testing.assert_allclose(codes, want, rtol=1e-5, atol=1e-6)
    dataset = client.get("/v1/datasets/codes").json()
    assert dataset["n_rows"] == N_ROWS and dataset["profile"]["n_rows"] == N_ROWS


def test_a_resume_whose_recorded_chunk_is_damaged_fails_naming_the_check(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    """The next attempt re-reads the chunks recorded before (for the output's summary),
    each checked against its xxh3: a damaged one fails the job, and no dataset is made."""
    job = submit(client, operation="encode", output="codes")
    assert stopped_attempt(settings) == JobStatus.QUEUED
    first = recorded(client, job["id"])[0]
    path = client.app.state.ctx.store.path_of(first)  # type: ignore[attr-defined]
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0x01
    path.write_bytes(bytes(raw))
    assert run_worker(settings, max_jobs=1) == 1
    done = client.get(f"/v1/batch-jobs/{job['id']}").json()
    assert done["status"] == "failed", done
    assert f"artifact {first} failed its xxh3 check" in done["error"], done["error"]
    assert client.get("/v1/datasets/codes").status_code == 404


def test_cancel_after_a_hand_back_removes_the_chunks(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    job = submit(client, operation="reconstruct", output="rebuilt")
    assert stopped_attempt(settings) == JobStatus.QUEUED
    shas = recorded(client, job["id"])
    store = client.app.state.ctx.store  # type: ignore[attr-defined]
    assert len(shas) == STOP_AFTER and all(store.exists(s) for s in shas)
    cancelled = client.post(f"/v1/batch-jobs/{job['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert recorded(client, job["id"]) == []
    assert not any(store.exists(s) for s in shas)
    assert client.get("/v1/datasets/rebuilt").status_code == 404


def test_a_version_archived_midway_fails_the_job_and_leaves_nothing(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    job = submit(client, operation="score", output="scores")
    assert stopped_attempt(settings) == JobStatus.QUEUED
    shas = recorded(client, job["id"])
    assert client.delete(f"/v1/models/{MODEL}/versions/1").status_code == 204
    assert run_worker(settings, max_jobs=1) == 1
    failed = client.get(f"/v1/batch-jobs/{job['id']}").json()
    assert failed["status"] == "failed" and "archived" in failed["error"], failed
    assert recorded(client, job["id"]) == []
    store = client.app.state.ctx.store  # type: ignore[attr-defined]
    assert not any(store.exists(s) for s in shas)
    assert client.get("/v1/datasets/scores").status_code == 404


def test_the_reaper_failing_the_job_removes_its_chunks(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    """The worker is gone (its lease stale) and the job is out of attempts: the reaper fails
    it, and the chunks that worker's earlier attempt recorded go with it."""
    job = submit(client, operation="encode", output="reaped")
    assert stopped_attempt(settings) == JobStatus.QUEUED
    shas = recorded(client, job["id"])
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        session.execute(update(Job).where(Job.id == job["id"]).values(max_attempts=1))
        session.commit()
    gone = lifecycle.claim_next_job(ctx.session_factory, owner="test:2:gone", host="x", pid=2)
    assert gone is not None and gone.id == job["id"]
    time.sleep(0.05)
    moved = lifecycle.requeue_stale_jobs(
        ctx.engine, ctx.session_factory, lease_timeout_s=0.01, store=ctx.store
    )
    assert moved == 1
    failed = client.get(f"/v1/batch-jobs/{job['id']}").json()
    assert failed["status"] == "failed" and "stopped heartbeating" in failed["error"], failed
    assert recorded(client, job["id"]) == []
    assert not any(ctx.store.exists(s) for s in shas)
