"""SIGTERM to the whole service: stop accepting, hand running jobs back at once."""

from __future__ import annotations

import signal
import time

from service.config import Settings
from tests.factories import wait_for_job
from tests.live import LiveServer
from tests.training.test_durability import SLOW_JOB, _running_at_epoch, _state_events


def test_sigterm_during_a_job_requeues_it_at_once_and_another_worker_finishes(
    settings: Settings,
) -> None:
    slow_lease = settings.model_copy(update={"lease_timeout_s": 600.0, "heartbeat_interval_s": 0.3})
    first = LiveServer(slow_lease, workers=1).start()
    with first.client() as http:
        job_id = http.post("/v1/jobs", json=SLOW_JOB).json()["id"]
        _running_at_epoch(http, job_id, 2)
    started = time.monotonic()
    assert first.stop(signal.SIGTERM, timeout_s=60) in (0, -15)
    assert time.monotonic() - started < 30  # the grace period, not the 600 s lease

    second = LiveServer(slow_lease, workers=1).start()
    try:
        with second.client() as http:
            done = wait_for_job(lambda path: http.get(path).json(), job_id, timeout_s=240)
            assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
            assert done["attempt"] == 1 and done["attempt_errors"] == []
            states = [e["data"] for e in _state_events(http, job_id)]
            assert any(s.get("reason", "").startswith("worker stopping") for s in states)
            pids = {s["pid"] for s in states if s["status"] == "running"}
            assert len(pids) == 2  # finished by the second server's worker
    finally:
        second.stop()
