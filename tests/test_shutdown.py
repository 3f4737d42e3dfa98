"""SIGTERM to the whole service: stop accepting, hand running jobs back at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from service.config import Settings
from tests.factories import wait_for_job
from tests.live import LiveServer
from tests.training.test_durability import SLOW_JOB, _running_at_epoch, _state_events

pytestmark = pytest.mark.slow  # SIGTERM to real servers mid-job (durability)


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


STOP_SIGNAL_SCRIPT = """
import logging, sys, threading, time
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(threadName)s %(message)s")
from service.executors.local import install_stop_signals
stopping = threading.Event()
install_stop_signals(stopping)
print("ready", flush=True)
log = logging.getLogger("busy")
deadline = time.monotonic() + 20
while not stopping.is_set() and time.monotonic() < deadline:
    log.debug("x")  # busy in Python code, taking locks: where the signals land
print("stopped" if stopping.is_set() else "never stopped", flush=True)
time.sleep(0.3)  # the relay thread's line
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_burst_of_stop_signals_stops_the_worker_once(sig: signal.Signals) -> None:
    """A worker gets SIGTERM from its pool and its process group at once. The handler once
    set the event itself, and a second signal landing inside the first one's Event.set()
    deadlocked the worker on the event's lock (it waited out the 30 s grace period)."""
    for _ in range(5):
        process = subprocess.Popen(
            [sys.executable, "-c", STOP_SIGNAL_SCRIPT], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        time.sleep(0.1)
        for _ in range(300):
            process.send_signal(sig)
        try:
            out, _ = process.communicate(timeout=30)
        finally:
            process.kill()
        assert process.returncode == 0, out[-2000:]
        lines = out.splitlines()
        assert "stopped" in lines and "never stopped" not in lines
        reports = [line for line in lines if "handing back" in line]
        assert reports == [
            f"stop-signal signal {int(sig)}: finishing the current epoch's checkpoint and "
            "handing back"
        ]
