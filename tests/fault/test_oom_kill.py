"""A worker the kernel's OOM killer ends: its job fails at once, the API lives on.

Real kernel, real cgroup: the pool runs its worker in a memory cgroup capped at 1 GiB
(AESVC_WORKER_MEMORY_BYTES) and the job builds a 2 GB network, so the kernel, not torch,
ends the worker with SIGKILL. Unlike any other SIGKILL (the fault tests' own, which resume
from the checkpoint) the job must not be retried: the same spec dies the same way."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from service.config import Settings
from service.executors.memory import MemoryCgroup
from tests.factories import job_body
from tests.live import running


def _writable_memory_cgroup() -> bool:
    own = MemoryCgroup.of_process()
    if own is None:
        return False
    probe = own.child(f"aesvc-probe-{uuid.uuid4().hex[:8]}", 1 << 30)
    if probe is None:
        return False
    probe.remove()
    return True


pytestmark = pytest.mark.skipif(
    not _writable_memory_cgroup(), reason="needs a writable memory cgroup (root in a container)"
)


def _wait_for(
    client: httpx.Client, job_id: str, statuses: set[str], timeout_s: float = 180
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in statuses:
            return dict(job)
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} still {job['status']}")


def test_a_worker_killed_by_the_oom_killer_fails_its_job_without_retry(settings: Settings) -> None:
    env = {
        "AESVC_WORKER_MEMORY_BYTES": str(1 << 30),
        "AESVC_MAX_MODEL_PARAMETERS": str(10**10),
        "AESVC_MAX_TRAINING_BYTES": str(10**12),
        "AESVC_WORKER_RESTART_DELAY_S": "0.2",
    }
    with running(settings, workers=1, env=env) as live, live.client() as client:
        big = {"code_size": 4, "hidden_sizes": [16384, 16384]}
        job = client.post("/v1/jobs", json=job_body(architecture=big)).json()
        assert job["max_attempts"] == 3
        done = _wait_for(client, job["id"], {"failed", "succeeded"})
        assert done["status"] == "failed", done
        assert done["attempt"] == 1, done
        assert done["error"].startswith("out of memory: worker pid"), done["error"]
        assert "OOM killer" in done["error"]
        assert client.get("/healthz").status_code == 200
        # The pool restarted the worker: the next job trains.
        small = client.post("/v1/jobs", json=job_body(model_name="after")).json()
        assert _wait_for(client, small["id"], {"failed", "succeeded"})["status"] == "succeeded"
        assert "OOM killer" in live.logs(None)
