"""Job rules that need no live server: cancel, idempotency, NaN, SSE replay, stale leases."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.context import AppContext
from service.executors.local import worker_loop
from service.training import lifecycle
from tests.factories import job_body, run_worker, wait_for
from tests.live import free_port

DIVERGING = job_body(
    model_name="nan",
    dataset="breast_cancer",
    architecture={"kind": "linear", "code_size": 2},
    training={"optimizer": "sgd", "learning_rate": 10.0, "gradient_clip_norm": None},
    preprocessing="none",
)


def test_cancel_queued_job_is_immediate(client: TestClient, settings: Settings) -> None:
    job = client.post("/v1/jobs", json=job_body()).json()
    cancelled = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["finished_at"] is not None
    assert run_worker_nothing_to_do(settings)
    assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "cancelled"
    # Cancelling again is a no-op, not an error.
    assert client.post(f"/v1/jobs/{job['id']}/cancel").json()["status"] == "cancelled"


def run_worker_nothing_to_do(settings: Settings) -> bool:
    ctx = AppContext.from_settings(settings)
    try:
        return lifecycle.claim_next_job(ctx.session_factory, owner="t", host="h", pid=1) is None
    finally:
        ctx.close()


def test_nan_loss_fails_at_once_without_retry(client: TestClient, settings: Settings) -> None:
    job = client.post("/v1/jobs", json=DIVERGING).json()
    run_worker(settings)
    done = client.get(f"/v1/jobs/{job['id']}").json()
    assert done["status"] == "failed", done
    assert done["attempt"] == 1 and done["max_attempts"] == 3
    assert "nan" in done["error"].lower() or "inf" in done["error"].lower()
    assert client.get("/v1/models/nan").status_code == 404
    assert run_worker_nothing_to_do(settings)


def test_idempotency_key_replay_and_conflict(client: TestClient) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    first = client.post("/v1/jobs", json=job_body(), headers=headers)
    again = client.post("/v1/jobs", json=job_body(), headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    other = client.post("/v1/jobs", json=job_body(code_size=3), headers=headers)
    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["detail"]
    assert client.get("/v1/jobs").json()["count"] == 1
    # Without a key, the same body is a new job.
    client.post("/v1/jobs", json=job_body())
    assert client.get("/v1/jobs").json()["count"] == 2


def _read_stream(client: TestClient, job_id: str, **headers: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        current: dict[str, Any] = {}
        for line in response.iter_lines():
            if not line:
                if current:
                    events.append(current)
                current = {}
            elif line.startswith(("event:", "id:", "data:")):
                key, value = line.split(":", 1)
                current[key] = value.strip()
    return events


def test_sse_stream_ends_at_terminal_state_and_resumes(
    client: TestClient, settings: Settings
) -> None:
    job = client.post("/v1/jobs", json=job_body(epochs=3)).json()
    run_worker(settings)
    full = _read_stream(client, job["id"])
    kinds = [e["event"] for e in full]
    assert kinds == ["state", "state", "progress", "progress", "progress", "state"]
    assert json.loads(full[-1]["data"])["status"] == "succeeded"
    assert [json.loads(e["data"])["epoch"] for e in full if e["event"] == "progress"] == [1, 2, 3]
    ids = [int(e["id"]) for e in full]
    assert ids == sorted(ids)
    # A reconnect with Last-Event-ID gets exactly the rest.
    rest = _read_stream(client, job["id"], **{"Last-Event-ID": str(ids[2])})
    assert [int(e["id"]) for e in rest] == ids[3:]


def test_sse_unknown_job_is_404(client: TestClient) -> None:
    assert client.get("/v1/jobs/nope/events").status_code == 404


def test_stale_lease_requeues_then_fails_after_max_attempts(
    client: TestClient, settings: Settings
) -> None:
    job_id = client.post("/v1/jobs", json=job_body(training={"max_attempts": 2})).json()["id"]
    ctx = AppContext.from_settings(settings)
    try:
        for attempt in (1, 2):
            claimed = lifecycle.claim_next_job(
                ctx.session_factory, owner=f"w{attempt}", host="h", pid=attempt
            )
            assert claimed is not None and claimed.id == job_id and claimed.attempt == attempt
            time.sleep(0.05)
            moved = lifecycle.requeue_stale_jobs(
                ctx.engine, ctx.session_factory, lease_timeout_s=0.01
            )
            assert moved == 1
        done = client.get(f"/v1/jobs/{job_id}").json()
        assert done["status"] == "failed"
        assert len(done["attempt_errors"]) == 2
        assert "attempt 1" in done["error"] and "attempt 2" in done["error"]
        # A worker that lost its lease cannot finish the job any more.
        assert not lifecycle.finish_job(
            ctx.session_factory, job_id=job_id, owner="w2", status="succeeded"
        )
    finally:
        ctx.close()


def test_priority_then_fifo(client: TestClient, settings: Settings) -> None:
    low = client.post("/v1/jobs", json=job_body()).json()["id"]
    high = client.post("/v1/jobs", json=job_body(priority=5)).json()["id"]
    low2 = client.post("/v1/jobs", json=job_body()).json()["id"]
    ctx = AppContext.from_settings(settings)
    try:
        order = []
        for i in range(3):
            claimed = lifecycle.claim_next_job(ctx.session_factory, owner=f"w{i}", host="h", pid=i)
            assert claimed is not None
            order.append(claimed.id)
        assert order == [high, low, low2]
    finally:
        ctx.close()


def test_list_jobs_filters_and_pages(client: TestClient) -> None:
    for name in ("a", "a", "b"):
        client.post("/v1/jobs", json=job_body(model_name=name))
    assert client.get("/v1/jobs", params={"model_name": "a"}).json()["count"] == 2
    assert client.get("/v1/jobs", params={"status": "queued"}).json()["count"] == 3
    assert client.get("/v1/jobs", params={"status": "running"}).json()["count"] == 0
    page = client.get("/v1/jobs", params={"limit": 2, "offset": 2}).json()
    assert page["count"] == 3 and len(page["data"]) == 1
    assert client.get("/v1/jobs", params={"status": "bogus"}).status_code == 422


def test_sse_resume_ids_past_64_bits_are_refused_or_clamped(
    client: TestClient, settings: Settings
) -> None:
    job = client.post("/v1/jobs", json=job_body(epochs=1)).json()
    run_worker(settings)
    huge = str(2**70)
    assert client.get(f"/v1/jobs/{job['id']}/events", params={"after": huge}).status_code == 422
    # A Last-Event-ID past every id: the stream just ends (the job is finished), no 500.
    assert _read_stream(client, job["id"], **{"Last-Event-ID": huge}) == []


def test_worker_loop_outlives_an_unreachable_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Polling backs off and goes on; the process does not die and restart in a loop."""
    caplog.set_level(logging.WARNING, logger="service.executors.local")
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/aesvc"
    settings = Settings(data_dir=tmp_path / "var", database_url=url, poll_interval_s=0.05)
    stopping = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["ran"] = worker_loop(settings, stopping=stopping, max_jobs=1)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def polls() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "database unavailable" in r.getMessage()]

    wait_for(lambda: len(polls()) >= 2, timeout_s=30)  # it polled, failed, and polled again
    assert thread.is_alive(), f"the worker loop ended: {outcome}"
    assert "connection" in polls()[0].getMessage().lower()  # the reason, not just a class name
    stopping.set()
    thread.join(timeout=30)
    assert not thread.is_alive() and outcome == {"ran": 0}
