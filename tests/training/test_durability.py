"""Nothing lost: killed workers, a killed server, many workers, cancels (real processes)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from service.config import Settings
from tests.factories import wait_for, wait_for_job
from tests.live import LiveServer, running

pytestmark = pytest.mark.slow  # killed workers and servers, many real processes (durability)

# About 0.2-0.5 s an epoch on 2 cores: long enough to kill mid-run, short enough for CI.
SLOW_JOB: dict[str, Any] = {
    "model_name": "slow",
    "dataset": "digits",
    "architecture": {"code_size": 8, "hidden_sizes": [128, 64]},
    "training": {"epochs": 12, "batch_size": 16, "early_stopping_patience": None},
}


@pytest.fixture
def fast_lease(settings: Settings) -> Settings:
    return settings.model_copy(update={"lease_timeout_s": 2.0, "heartbeat_interval_s": 0.3})


@pytest.fixture
def server(fast_lease: Settings) -> Iterator[LiveServer]:
    with running(fast_lease, workers=1) as live:
        yield live


def _get(http: httpx.Client) -> Any:
    return lambda path: http.get(path).json()


def _running_at_epoch(http: httpx.Client, job_id: str, epoch: int) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        job: dict[str, Any] = http.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] in ("queued", "running"), job
        progress = job["progress"] or {}
        return job if job["status"] == "running" and progress.get("epoch", 0) >= epoch else None

    return wait_for(ready, timeout_s=120, interval_s=0.1)  # type: ignore[no-any-return]


def _progress_events(http: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    return http.get(f"/v1/jobs/{job_id}/history").json()["epochs"]  # type: ignore[no-any-return]


def assert_resumed_from_checkpoint(
    history: list[dict[str, Any]],
    *,
    epochs: int = SLOW_JOB["training"]["epochs"],
    checkpointed: dict[int, int] | None = None,
) -> None:
    """Every attempt after the first starts right after the last epoch checkpointed before
    it, never back at epoch 1 once a checkpoint exists, and the last attempt ends the run.

    A kill may land between an epoch's checkpoint and its progress report, so each earlier
    attempt may have checkpointed one epoch more than it reported. `checkpointed` (attempt
    -> epochs its checkpoint held when it was killed, read from the file) pins the start.
    """
    attempts = sorted({h["attempt"] for h in history})
    assert len(attempts) > 1, "no attempt resumed"
    reported, last_reporting = 0, 0  # the last epoch reported, and by which attempt
    saved = 0  # the epochs the checkpoint held, where the caller read it
    for attempt in range(1, attempts[-1] + 1):
        numbers = [h["epoch"] for h in history if h["attempt"] == attempt]
        if numbers:
            assert numbers == list(range(numbers[0], numbers[-1] + 1)), (attempt, numbers)
            if attempt > 1:
                most = reported + 1 + (attempt - last_reporting if last_reporting else attempt - 1)
                assert reported + 1 <= numbers[0] <= most, (attempt, numbers, reported)
                if checkpointed:
                    assert numbers[0] == saved + 1, (attempt, numbers, saved)
            reported, last_reporting = max(reported, numbers[-1]), attempt
        if checkpointed and attempt in checkpointed:
            saved = checkpointed[attempt]
    assert [h["epoch"] for h in history if h["attempt"] == attempts[-1]][-1] == epochs


def test_sigkill_worker_resumes_from_checkpoint(server: LiveServer) -> None:
    with server.client() as http:
        job_id = http.post("/v1/jobs", json=SLOW_JOB).json()["id"]
        running = _running_at_epoch(http, job_id, 3)
        os.kill(running["worker"]["pid"], signal.SIGKILL)

        done = wait_for_job(_get(http), job_id, timeout_s=240)
        assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
        assert done["attempt"] == 2
        assert "stopped heartbeating" in done["attempt_errors"][0]["error"]
        assert_resumed_from_checkpoint(_progress_events(http, job_id))
        versions = http.get("/v1/models/slow/versions").json()
        assert versions["count"] == 1 and versions["data"][0]["source_job_id"] == job_id


def test_sigkill_server_then_restart_finishes_the_job(server: LiveServer) -> None:
    with server.client() as http:
        job_id = http.post("/v1/jobs", json=SLOW_JOB).json()["id"]
        _running_at_epoch(http, job_id, 2)
    server.stop(signal.SIGKILL)
    server.start()
    with server.client() as http:
        done = wait_for_job(_get(http), job_id, timeout_s=240)
        assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
        assert http.get("/v1/models/slow/versions").json()["count"] == 1
        epochs = [h["epoch"] for h in _progress_events(http, job_id)]
        assert epochs[-1] == 12 and epochs.count(1) == 1  # resumed, never restarted


def test_cancel_running_job_keeps_no_version(server: LiveServer) -> None:
    with server.client() as http:
        job_id = http.post("/v1/jobs", json=SLOW_JOB).json()["id"]
        _running_at_epoch(http, job_id, 1)
        cancelling = http.post(f"/v1/jobs/{job_id}/cancel").json()
        assert cancelling["status"] in ("cancelling", "cancelled")
        done = wait_for_job(_get(http), job_id, timeout_s=30)
        assert done["status"] == "cancelled"
        assert done["progress"]["epoch"] < 12
        assert http.get("/v1/models/slow").status_code == 404


def test_four_workers_run_a_hundred_jobs_exactly_once(fast_lease: Settings) -> None:
    live = LiveServer(fast_lease, workers=4).start()
    try:
        with live.client() as http:
            body = {
                "model_name": "many",
                "dataset": "pca3d",
                "architecture": {"code_size": 2, "hidden_sizes": [4]},
                "training": {"epochs": 1},
            }
            ids = [http.post("/v1/jobs", json=body).json()["id"] for _ in range(100)]

            def all_done() -> list[dict[str, Any]] | None:
                jobs = http.get("/v1/jobs", params={"limit": 1000}).json()["data"]
                finished = [j for j in jobs if j["status"] == "succeeded"]
                return jobs if len(finished) == 100 else None

            jobs = wait_for(all_done, timeout_s=300, interval_s=0.5)
            assert sorted(j["id"] for j in jobs) == sorted(ids)
            assert all(j["attempt"] == 1 for j in jobs)
            assert sorted(j["model_version"] for j in jobs) == list(range(1, 101))
            versions = http.get("/v1/models/many/versions").json()["data"]
            assert sorted(v["source_job_id"] for v in versions) == sorted(ids)
            workers = set()
            for job_id in ids[:20]:
                starts = [
                    line
                    for line in _state_events(http, job_id)
                    if line["data"]["status"] == "running"
                ]
                assert len(starts) == 1
                workers.add(starts[0]["data"]["pid"])
            assert len(workers) > 1  # the pool really shared the work
    finally:
        live.stop()


def _state_events(http: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    import json

    events = []
    with http.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        kind = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind == "state":
                events.append({"kind": kind, "data": json.loads(line.split(":", 1)[1])})
    return events


def test_sigterm_worker_hands_job_back_at_once(server: LiveServer) -> None:
    with server.client() as http:
        job_id = http.post("/v1/jobs", json=SLOW_JOB).json()["id"]
        running = _running_at_epoch(http, job_id, 2)
        os.kill(running["worker"]["pid"], signal.SIGTERM)
        # Handed back long before the 2 s lease could expire, without spending an attempt.
        requeued = wait_for(
            lambda: any(
                e["data"].get("reason", "").startswith("worker stopping")
                for e in _state_events(http, job_id)
            ),
            timeout_s=10,
        )
        assert requeued
        done = wait_for_job(_get(http), job_id, timeout_s=240)
        assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
        assert done["attempt"] == 1 and done["attempt_errors"] == []
        pids = {
            e["data"]["pid"]
            for e in _state_events(http, job_id)
            if e["data"]["status"] == "running"
        }
        assert len(pids) == 2  # finished by the restarted worker
