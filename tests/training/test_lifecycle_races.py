"""A job's transitions against a write that lands between their read and their update (on
PostgreSQL, READ COMMITTED; SQLite's IMMEDIATE transactions take them one at a time): a
user's cancel must not be overwritten by a worker's hand-back or a retry, and the reaper
must not requeue a job whose worker was just told by its heartbeat that it still runs.

The other write runs on a thread of its own, started just before the transition's update,
and is given time to commit (as it can where nothing locks the row) or to wait for the
transition's commit (where the transition's read locked it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.context import AppContext
from service.database import utcnow
from service.training import lifecycle
from service.training.tables import Job
from tests.factories import job_body


def claimed(client: TestClient, ctx: AppContext, name: str) -> str:
    client.post("/v1/jobs", json=job_body(model_name=name)).raise_for_status()
    job = lifecycle.claim_next_job(ctx.session_factory, owner="w1", host="h", pid=1)
    assert job is not None
    return job.id


def racing_release(monkeypatch: pytest.MonkeyPatch, other: Callable[[], Any]) -> list[Any]:
    """Run `other` on a thread just before the transition's update; its result, after."""
    real = lifecycle._release
    outcome: list[Any] = []
    threads: list[threading.Thread] = []

    def racing(*args: Any, **kwargs: Any) -> bool:
        if not threads:
            threads.append(threading.Thread(target=lambda: outcome.append(other())))
            threads[0].start()
            threads[0].join(0.5)  # committed by now, unless the row is locked
        return real(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "_release", racing)
    outcome.append(threads)
    return outcome


def settle(outcome: list[Any]) -> Any:
    threads = outcome[0]
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()
    return outcome[1]


@pytest.mark.parametrize("transition", ["hand_back", "retry_or_fail"])
def test_a_cancel_landing_during_a_requeue_is_not_lost(
    client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch, transition: str
) -> None:
    job_id = claimed(client, ctx, f"race-{transition.replace('_', '-')}")

    def user_cancels() -> str:
        response = client.post(f"/v1/jobs/{job_id}/cancel")
        assert response.status_code in (200, 202), response.text
        return str(response.json()["status"])

    outcome = racing_release(monkeypatch, user_cancels)
    if transition == "hand_back":
        lifecycle.hand_back(ctx.session_factory, job_id=job_id, owner="w1")
    else:
        lifecycle.retry_or_fail(ctx.session_factory, job_id=job_id, owner="w1", error="x")
    answered = settle(outcome)
    final = client.get(f"/v1/jobs/{job_id}").json()["status"]
    assert answered in ("cancelling", "cancelled")  # what the user was told
    assert final == "cancelled", f"the cancel was lost: {transition} left the job {final}"


def test_the_reaper_does_not_requeue_a_job_its_worker_was_told_still_runs(
    client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = claimed(client, ctx, "race-reaper")
    with ctx.session_factory() as session:  # the worker looked stalled for a while
        stale = utcnow() - timedelta(hours=1)
        session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=stale))
        session.commit()

    outcome = racing_release(
        monkeypatch, lambda: lifecycle.heartbeat(ctx.session_factory, job_id=job_id, owner="w1")
    )
    moved = lifecycle.requeue_stale_jobs(ctx.engine, ctx.session_factory, lease_timeout_s=5.0)
    told = settle(outcome)
    final = client.get(f"/v1/jobs/{job_id}").json()["status"]
    # either the heartbeat won (running, not moved) or the reaper did, and the heartbeat
    # told the worker its lease was lost; never a worker told "running" of a requeued job
    assert (told, final, moved) in (("running", "running", 0), (None, "queued", 1))
