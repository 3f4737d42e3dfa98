"""Training writes its job's success inside the registry's transaction: the version row and
`succeeded` commit together, or neither does (a lease lost at the last moment)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from service.context import AppContext
from service.registry.service import register_version
from service.registry.tables import ModelVersion
from service.training import lifecycle
from service.training.tables import Job
from tests.factories import job_body
from tests.registry.builders import make_model


def claim(client: TestClient, ctx: AppContext, model_name: str) -> Job:
    client.post("/v1/jobs", json=job_body(model_name=model_name)).raise_for_status()
    job = lifecycle.claim_next_job(ctx.session_factory, owner="w1", host="h", pid=1)
    assert job is not None
    return job


def register(ctx: AppContext, job: Job, owner: str) -> int:
    model, config = make_model(n_features=6)
    return register_version(
        ctx.session_factory,
        ctx.store,
        model_name=job.model_name,
        source_job_id=job.id,
        dataset_id=job.dataset_id,
        state_dict=model.state_dict(),
        config=config,
        metrics={},
        history=[],
        in_same_transaction=lambda session, version: lifecycle.mark_succeeded(
            session, job_id=job.id, owner=owner, model_version=version
        ),
    )


def versions(ctx: AppContext) -> int:
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).select_from(ModelVersion)) or 0


def test_the_version_and_the_success_commit_together_once(
    client: TestClient, ctx: AppContext
) -> None:
    job = claim(client, ctx, "together")
    assert register(ctx, job, "w1") == 1
    read = client.get(f"/v1/jobs/{job.id}").json()
    assert read["status"] == "succeeded" and read["model_version"] == 1
    assert register(ctx, job, "w1") == 1  # a retry finds the first registration
    assert versions(ctx) == 1


@pytest.mark.parametrize("moved", ["another-owner", "cancelling"])
def test_a_lease_lost_at_the_last_moment_writes_neither(
    client: TestClient, ctx: AppContext, moved: str
) -> None:
    job = claim(client, ctx, f"lost-{moved}")
    values = {"lease_owner": "w2"} if moved == "another-owner" else {"status": "cancelling"}
    with ctx.session_factory() as session:
        session.execute(update(Job).where(Job.id == job.id).values(**values))
        session.commit()
    with pytest.raises(lifecycle.LeaseLost):
        register(ctx, job, "w1")
    assert versions(ctx) == 0
    assert client.get(f"/v1/models/lost-{moved}").status_code == 404  # no model row either
    read = client.get(f"/v1/jobs/{job.id}").json()
    assert read["status"] != "succeeded" and read["model_version"] is None


def test_mark_succeeded_is_not_committed_by_itself(client: TestClient, ctx: AppContext) -> None:
    """It writes into its caller's transaction; a rollback takes it back."""
    job = claim(client, ctx, "rolled-back")
    session = ctx.session_factory()
    try:
        lifecycle.mark_succeeded(session, job_id=job.id, owner="w1", model_version=7)
        session.rollback()
    finally:
        session.close()
    assert client.get(f"/v1/jobs/{job.id}").json()["status"] == "running"
