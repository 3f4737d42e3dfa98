"""A two-node Ray cluster that shares no disk, the service on PostgreSQL and S3 only: a job
pinned to the second node trains there and serves from the API; SIGKILL of that node mid-
job, and attempt 2 resumes on a fresh node from the checkpoint in the bucket.

PostgreSQL: the suite's (AESVC_TEST_DATABASE_URL) or a throwaway cluster of the test. CI runs
tests/cluster/ once, in its PostgreSQL run (.ci/run)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.config import Settings
from tests.cluster.ray_nodes import RayCluster, ray_cli
from tests.factories import wait_for, wait_for_job
from tests.live import LiveServer
from tests.s3 import S3Server
from tests.training.test_durability import (
    SLOW_JOB,
    _progress_events,
    _running_at_epoch,
    assert_resumed_from_checkpoint,
)
from tests.training.test_ray_executor import _ray_pids

pytestmark = [pytest.mark.ray, pytest.mark.cluster, pytest.mark.alone]
TRAINER = "aesvc_trainer"
CREDENTIAL_PREFIXES = ("AWS_", "GOOGLE_", "AZURE_")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RayCluster]:
    if not Path(ray_cli()).exists():
        pytest.skip("ray is not installed (pip install -e '.[ray]')")
    # The nodes get no object store credentials: the job brings them (service.executors).
    env = {k: v for k, v in os.environ.items() if not k.startswith(CREDENTIAL_PREFIXES)}
    cluster = RayCluster(tmp_path, env)
    try:
        cluster.start_head()
        yield cluster
    finally:
        cluster.cleanup()


def _get(http: Any) -> Any:
    return lambda path: http.get(path).json()


def _adopted(http: Any, job_id: str, attempt: int, api_pid: int) -> dict[str, Any] | None:
    """Running in attempt `attempt` with the actor's pid (the dispatcher's until adopted)."""
    job: dict[str, Any] = http.get(f"/v1/jobs/{job_id}").json()
    worker = job["worker"] or {}
    running = job["status"] == "running" and job["attempt"] == attempt
    return job if running and worker.get("pid") not in (None, api_pid) else None


def test_a_job_pinned_to_a_node_survives_that_node_being_killed(
    settings: Settings,
    shared_database_url: str,
    s3_url: str,
    s3_server: S3Server,
    cluster: RayCluster,
) -> None:
    node_env = {k: v for k, v in os.environ.items() if not k.startswith(CREDENTIAL_PREFIXES)}
    second = cluster.add_node({TRAINER: 1}, node_env)
    api = settings.model_copy(
        update={
            "database_url": shared_database_url,
            "artifact_url": s3_url,
            "lease_timeout_s": 3.0,
            "heartbeat_interval_s": 0.3,
        }
    )
    env = {
        "AESVC_EXECUTOR": "ray",
        "RAY_ADDRESS": cluster.address,
        "AESVC_RAY_JOB_RESOURCES": json.dumps({TRAINER: 1}),
        **s3_server.env(),
    }
    live = LiveServer(api, workers=0, env=env).start(timeout_s=120)
    with live.client() as http:
        job_id = http.post("/v1/jobs", json=SLOW_JOB).json()["id"]
        assert live.process is not None
        first = wait_for(lambda: _adopted(http, job_id, 1, live.process.pid), timeout_s=120)
        assert first["worker"]["pid"] in second.pids()  # on the pinned node
        _running_at_epoch(http, job_id, 3)
        second.kill()
        third = cluster.add_node({TRAINER: 1}, node_env)  # a fresh node, an empty disk
        resumed = wait_for(lambda: _adopted(http, job_id, 2, live.process.pid), timeout_s=180)
        assert resumed["worker"]["pid"] in third.pids()

        done = wait_for_job(_get(http), job_id, timeout_s=300)
        assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
        assert done["attempt"] == 2
        assert_resumed_from_checkpoint(_progress_events(http, job_id))
        assert len(set(_ray_pids(http, job_id))) == 2
        versions = http.get("/v1/models/slow/versions").json()
        assert versions["count"] == 1 and versions["data"][0]["source_job_id"] == job_id
        rows = {"inputs": [[0.0] * 64]}
        served = http.post("/v1/models/slow/versions/1/encode", json=rows)
        assert served.status_code == 200 and served.json()["version"] == 1
    live.stop()
