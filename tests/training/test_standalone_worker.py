"""`aesvc worker` runs the same loop on its own, against the API's database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from service.config import Settings
from tests.factories import job_body, wait_for_job
from tests.live import LiveServer

pytestmark = pytest.mark.slow  # a real server and `aesvc worker` processes


@pytest.fixture
def api_only(settings: Settings) -> Iterator[LiveServer]:
    live = LiveServer(settings, workers=0).start()
    yield live
    live.stop()


def test_standalone_worker_runs_jobs_and_stops_on_sigterm(api_only: LiveServer) -> None:
    env = {**api_only.env, "AESVC_WORKERS": "1"}
    log = (api_only.log_path.parent / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker"], env=env, stdout=log, stderr=log
    )
    try:
        with api_only.client() as http:
            job_id = http.post("/v1/jobs", json=job_body(model_name="solo", code_size=8)).json()[
                "id"
            ]
            done = wait_for_job(lambda path: http.get(path).json(), job_id, timeout_s=120)
            assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
            events = http.get(f"/v1/jobs/{job_id}/history").json()["epochs"]
            assert len(events) == 2
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
