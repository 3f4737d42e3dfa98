"""A job cancelled (or whose lease moved on) at the moment it registers its version leaves
nothing: no weights blob that no version holds, no checkpoint."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.config import Settings
from service.context import AppContext
from service.registry.service import register_version, weights_blob
from service.training import lifecycle, runner
from service.training.tables import Job
from tests.factories import job_body, run_worker
from tests.registry.builders import make_model, stored_blobs


def test_cancel_at_registration_leaves_no_weights_blob(
    client: TestClient, ctx: AppContext, settings: Settings
) -> None:
    client.post("/v1/jobs", json=job_body(model_name="late-cancel")).raise_for_status()
    job = lifecycle.claim_next_job(ctx.session_factory, owner="w1", host="h", pid=1)
    assert job is not None
    client.post(f"/v1/jobs/{job.id}/cancel").raise_for_status()  # running -> cancelling
    before = stored_blobs(settings)
    model, config = make_model(n_features=6, seed=123)
    with pytest.raises(lifecycle.LeaseLost):
        register_version(
            ctx.session_factory,
            ctx.store,
            model_name=job.model_name,
            source_job_id=job.id,
            dataset_id=job.dataset_id,
            state_dict=model.state_dict(),
            config=config,
            metrics={},
            history=[],
            in_same_transaction=lambda s, v: lifecycle.mark_succeeded(
                s, job_id=job.id, owner="w1", model_version=v
            ),
        )
    # the worker then ends the job cancelled, as JobRun.register does
    assert lifecycle.finish_job(ctx.session_factory, job_id=job.id, owner="w1", status="cancelled")
    assert client.get(f"/v1/jobs/{job.id}").json()["status"] == "cancelled"
    weights = hashlib.sha256(weights_blob(model.state_dict(), config, {})).hexdigest()
    assert weights not in before  # a blob of its own, stored by register_version
    left = stored_blobs(settings) - before
    assert left == set(), f"orphaned blob(s) left by a job that ended cancelled: {left}"


def test_cancel_at_registration_through_the_worker_leaves_nothing(
    client: TestClient, ctx: AppContext, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real worker: the cancel lands after the last epoch, before the version commits."""
    job_id = client.post("/v1/jobs", json=job_body(model_name="late-cancel-2")).json()["id"]
    real = runner.register_version

    def cancel_then_register(*args: Any, **kwargs: Any) -> int:
        with ctx.session_factory() as session:
            session.execute(update(Job).where(Job.id == job_id).values(status="cancelling"))
            session.commit()
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "register_version", cancel_then_register)
    before = stored_blobs(settings)
    run_worker(settings, max_jobs=1)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "cancelled", job
    checkpoint = ctx.store.checkpoint(job_id)
    left = stored_blobs(settings) - before
    assert not checkpoint.exists(), f"checkpoint left behind by a cancelled job: {checkpoint.uri}"
    assert left == set(), f"weights blob left behind by a cancelled job: {left}"
