"""A job's lease and checkpoint around the end of training: the lease holds until a finished
job's version is registered, a cancelled job's checkpoint goes, and the reaper does not
take back a job whose worker heartbeat landed after the reaper looked."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.artifacts import FolderStore, StoredArtifact
from service.config import Settings
from service.context import AppContext
from service.training import lifecycle
from service.training.runner import run_job
from tests.factories import job_body, wait_for

LEASE_S = 1.0


class SlowStore(FolderStore):
    """A blob write that outlasts the lease (a slow disk, a big model), while another
    worker's reaper runs."""

    def __init__(self, root: Path, ctx: AppContext) -> None:
        super().__init__(root)
        self.ctx = ctx
        self.moved: list[int] = []

    def put_bytes(self, data: bytes) -> StoredArtifact:
        time.sleep(LEASE_S + 0.5)
        reaped = lifecycle.requeue_stale_jobs(
            self.ctx.engine, self.ctx.session_factory, lease_timeout_s=LEASE_S
        )
        self.moved.append(reaped)
        return super().put_bytes(data)


def test_a_slow_registration_keeps_its_lease(client: TestClient, settings: Settings) -> None:
    body = job_body(model_name="slow-registration", training={"epochs": 2, "max_attempts": 1})
    job = client.post("/v1/jobs", json=body).json()
    ctx = AppContext.from_settings(settings)
    try:
        store = SlowStore(ctx.store.root, ctx)
        claimed = lifecycle.claim_next_job(ctx.session_factory, owner="w1", host="h", pid=1)
        assert claimed is not None
        status = run_job(
            factory=ctx.session_factory,
            store=store,
            job=claimed,
            owner="w1",
            heartbeat_interval_s=0.2,
            batch_record_every_s=0.5,
            stopping=threading.Event(),
        )
    finally:
        ctx.close()
    assert store.moved == [0]  # the reaper ran during the write and found the lease fresh
    assert status == "succeeded"
    assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "succeeded"
    assert client.get("/v1/models/slow-registration/versions/1").status_code == 200


def test_the_reaper_spares_a_job_whose_heartbeat_landed_after_it_looked(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = client.post("/v1/jobs", json=job_body(model_name="late-beat")).json()
    ctx = AppContext.from_settings(settings)
    try:
        lifecycle.claim_next_job(ctx.session_factory, owner="w1", host="h", pid=1)
        time.sleep(LEASE_S + 0.2)  # stale now
        release = lifecycle.retry_or_fail

        def beat_first(factory: object, **kwargs: object) -> str | None:
            lifecycle.heartbeat(ctx.session_factory, job_id=job["id"], owner="w1")
            return release(factory, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(lifecycle, "retry_or_fail", beat_first)
        moved = lifecycle.requeue_stale_jobs(
            ctx.engine, ctx.session_factory, lease_timeout_s=LEASE_S
        )
    finally:
        ctx.close()
    assert moved == 0
    assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "running"


def test_cancelling_a_handed_back_job_removes_its_checkpoint(
    client: TestClient, settings: Settings
) -> None:
    """A worker stopping (SIGTERM) hands its job back with a checkpoint to resume from; a
    cancel while it is queued again means nothing will resume: the checkpoint goes."""
    body = job_body(model_name="handed-back", epochs=50)
    job = client.post("/v1/jobs", json=body).json()
    ctx = AppContext.from_settings(settings)
    try:
        claimed = lifecycle.claim_next_job(ctx.session_factory, owner="w1", host="h", pid=1)
        assert claimed is not None
        ckpt = ctx.store.checkpoint(claimed.id)
        stopping = threading.Event()

        def stop_after_the_first_checkpoint() -> None:
            wait_for(ckpt.exists, timeout_s=60)
            stopping.set()

        threading.Thread(target=stop_after_the_first_checkpoint, daemon=True).start()
        status = run_job(
            factory=ctx.session_factory,
            store=ctx.store,
            job=claimed,
            owner="w1",
            heartbeat_interval_s=0.3,
            batch_record_every_s=0.5,
            stopping=stopping,
        )
    finally:
        ctx.close()
    assert status == "queued" and ckpt.exists()  # handed back, to resume from there
    assert client.post(f"/v1/jobs/{job['id']}/cancel").json()["status"] == "cancelled"
    assert not ckpt.exists()
