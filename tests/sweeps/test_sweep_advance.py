"""Advancing a sweep is idempotent under concurrency: the API's pass, every worker that
ends a trial and a restarted API may all advance the same sweep at once, and each trial
is still queued once (the sweep row's lock; BEGIN IMMEDIATE on SQLite)."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.config import Settings
from service.sweeps.advance import advance_sweep
from service.training.tables import Job


def test_concurrent_advances_queue_each_trial_once(client: TestClient, settings: Settings) -> None:
    body = {
        "model": "dg",
        "dataset": "digits",
        "base": {"architecture": {"hidden_sizes": [8]}, "training": {"epochs": 1}},
        "grid": {"architecture.code_size": [2, 3, 4, 5]},
        "max_parallel": 2,
    }
    sweep = client.post("/v1/sweeps", json=body).json()
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    first = sweep["trials"][0]["job_id"]
    with ctx.session_factory() as session:  # the first trial fails: one slot opens
        session.execute(update(Job).where(Job.id == first).values(status="failed", error="boom"))
        session.commit()
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def advance() -> None:
        start.wait()
        try:
            advance_sweep(ctx.session_factory, ctx.store, settings, sweep["id"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=advance) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with ctx.session_factory() as session:
        jobs = session.scalars(select(Job).where(Job.sweep_id == sweep["id"])).all()
    assert len(jobs) == 3  # two at first, then one in the slot the failure opened
    after = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert [t["status"] for t in after["trials"]] == ["failed", "queued", "queued", "pending"]
    assert after["trials"][0]["error"] == "boom"
