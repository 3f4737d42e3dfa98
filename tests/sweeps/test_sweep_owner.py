"""A sweep is its creator's: its trials are the API key's jobs, counted against its quota of
active jobs, and a `promote` (an alias move) needs the admin scope, as a move by hand does."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.config import Settings
from service.main import create_app
from service.security import create_key
from service.sweeps.tables import Sweep
from service.training.schemas import ACTIVE_STATES
from service.training.tables import Job
from tests.factories import job_body

GRID: dict[str, Any] = {
    "model": "sw",
    "dataset": "digits",
    "base": {"training": {"epochs": 1}},
    "grid": {"architecture.code_size": [2, 3, 4, 5, 6, 7, 8, 9]},
    "max_parallel": 8,
}


def _active(app: Any, key_id: str | None = None) -> int:
    query = select(func.count()).select_from(Job).where(Job.status.in_(ACTIVE_STATES))
    if key_id is not None:
        query = query.where(Job.api_key_id == key_id)
    with app.state.ctx.session_factory() as session:
        return int(session.scalar(query) or 0)


def test_a_key_at_its_quota_may_not_start_a_sweep_and_trials_fill_only_its_room(
    settings: Settings,
) -> None:
    secured = settings.model_copy(
        update={"auth": "required", "quota_active_jobs": 3, "rate_limit_per_s": 0}
    )
    app = create_app(secured, start_workers=False)
    with TestClient(app) as client:
        with app.state.ctx.session_factory() as session:
            row, alice = create_key(session=session, name="alice", scopes=["read", "train"])
            alice_id = row.id
        as_alice = {"Authorization": f"Bearer {alice}"}
        job = client.post("/v1/jobs", json=job_body(model_name="q0"), headers=as_alice)
        assert job.status_code == 202, job.text
        # one job active, a quota of 3: the sweep of 8 queues 2 trials now, as alice's jobs
        sweep = client.post("/v1/sweeps", json=GRID, headers=as_alice)
        assert sweep.status_code == 202, sweep.text
        assert _active(app, alice_id) == 3
        assert _active(app) == 3
        with app.state.ctx.session_factory() as session:
            row = session.get(Sweep, sweep.json()["id"])
            assert row is not None and row.api_key_id is not None
        # at the quota: another sweep is refused, and nothing is queued
        again = client.post("/v1/sweeps", json={**GRID, "model": "sw2"}, headers=as_alice)
        assert again.status_code == 429, again.text
        assert again.json()["code"] == "quota_exceeded"
        assert _active(app) == 3


def test_a_train_key_cannot_move_an_alias_through_a_sweeps_promote(settings: Settings) -> None:
    secured = settings.model_copy(update={"auth": "required", "rate_limit_per_s": 0})
    app = create_app(secured, start_workers=False)
    with TestClient(app) as client:
        with app.state.ctx.session_factory() as session:
            _, admin = create_key(session=session, name="ops", scopes=["admin"])
            _, train = create_key(session=session, name="ci", scopes=["read", "train"])
        body = {**GRID, "promote": "production"}
        refused = client.post("/v1/sweeps", json=body, headers={"Authorization": f"Bearer {train}"})
        assert refused.status_code == 403, refused.text
        assert "promote" in refused.json()["detail"] and "admin" in refused.json()["detail"]
        assert _active(app) == 0
        allowed = client.post("/v1/sweeps", json=body, headers={"Authorization": f"Bearer {admin}"})
        assert allowed.status_code == 202, allowed.text
