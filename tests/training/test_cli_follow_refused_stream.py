"""`aesvc train --follow` exits 0 only if the job succeeds, 1 only if it fails or is
cancelled. An event stream refused for a while (429 + Retry-After: this key's
AESVC_MAX_STREAMS_PER_KEY streams open; without auth every caller shares one count) is
waited out, the job looked at meanwhile: it exited 1 for a job that went on to succeed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from service.config import Settings
from tests.factories import job_body, run_worker
from tests.live import LiveServer

pytestmark = pytest.mark.slow  # a real server, followed by the CLI


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    yield LiveServer(settings, workers=0, env={"AESVC_MAX_STREAMS_PER_KEY": "1"}).start(
        ready_path="/healthz"
    )


def test_follow_outlasts_a_refused_stream_and_reports_the_job_that_succeeded(
    server: LiveServer, settings: Settings
) -> None:
    with server.client() as http:
        # a job that stays queued (no worker takes it before the CLI's), followed by
        # another client: the one stream slot of the anonymous callers is taken
        parked = http.post("/v1/jobs", json=job_body(model_name="parked", priority=-1000))
        assert parked.status_code == 202, parked.text
        parked_id = parked.json()["id"]
        with http.stream("GET", f"/v1/jobs/{parked_id}/events") as holder:
            assert holder.status_code == 200

            def worker() -> None:
                # once the CLI has queued its job (priority 0, claimed before the parked
                # one; a fixed wait ran the parked job where the CLI started slowly)
                deadline = time.monotonic() + 120
                with server.client() as mine:
                    while not any(
                        j["model"] == "followed" for j in mine.get("/v1/jobs").json()["data"]
                    ):
                        if time.monotonic() > deadline:
                            return  # the CLI queued nothing: the asserts below say so
                        time.sleep(0.1)
                run_worker(settings, max_jobs=1)

            thread = threading.Thread(target=worker, daemon=True)
            thread.start()
            done = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "train", "--dataset", "digits",
                 "--code-size", "2", "--hidden-sizes", "8", "--epochs", "2",
                 "--model", "followed", "--follow", "--url", server.base_url],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env={**os.environ, "COLUMNS": "200", "AESVC_API_KEY": ""},
            )  # fmt: skip
            # the slot stays taken until the CLI's job has ended: the CLI was refused its
            # stream all along, and is still waiting (it used to exit 1 here)
            thread.join(timeout=240)
            assert not thread.is_alive(), "the CLI's job did not end"
            assert done.poll() is None, done.communicate()
        # the slot is free from here on
        out, err = done.communicate(timeout=120)
        job = next(j for j in http.get("/v1/jobs").json()["data"] if j["model"] == "followed")
    assert job["status"] == "succeeded", job
    assert done.returncode == 0, (done.returncode, out[-600:], err[-600:])
    assert "succeeded" in out, out
