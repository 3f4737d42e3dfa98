"""The Ray executor against a real local Ray head (started here, stopped at the end)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from service.config import Settings
from tests.factories import wait_for_job
from tests.live import LiveServer, free_port
from tests.training.test_durability import (
    SLOW_JOB,
    _progress_events,
    _running_at_epoch,
    _state_events,
    assert_resumed_from_checkpoint,
)

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    ray = shutil.which("ray") or os.path.join(os.path.dirname(os.sys.executable), "ray")  # type: ignore[attr-defined]
    if not os.path.exists(ray):
        pytest.skip("ray is not installed (pip install -e '.[ray]')")
    port = free_port()
    subprocess.run(
        [
            ray,
            "start",
            "--head",
            f"--port={port}",
            "--num-cpus=2",
            "--num-gpus=0",
            "--include-dashboard=false",
            "--disable-usage-stats",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=120)


@pytest.fixture
def ray_server(
    settings: Settings, ray_address: str, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """The API on the Ray executor; a test module's RAY_SERVER_ENV is added to its env."""
    fast = settings.model_copy(update={"lease_timeout_s": 3.0, "heartbeat_interval_s": 0.3})
    env = {"AESVC_EXECUTOR": "ray", "RAY_ADDRESS": ray_address}
    env.update(getattr(request.module, "RAY_SERVER_ENV", {}))
    live = LiveServer(fast, workers=0, env=env).start(timeout_s=120)
    yield live
    if live.process is not None and live.process.poll() is None:
        live.stop(signal.SIGKILL)


def _get(http: Any) -> Any:
    return lambda path: http.get(path).json()


def _ray_pids(http: Any, job_id: str) -> list[int]:
    return [
        e["data"]["pid"] for e in _state_events(http, job_id) if e["data"].get("executor") == "ray"
    ]


def test_job_runs_in_a_ray_actor(ray_server: LiveServer) -> None:
    with ray_server.client() as http:
        body = {
            "model_name": "rayed",
            "dataset": "pca3d",
            "architecture": {"code_size": 2, "hidden_sizes": [4]},
            "training": {"epochs": 2},
        }
        job_id = http.post("/v1/jobs", json=body).json()["id"]
        done = wait_for_job(_get(http), job_id, timeout_s=180)
        assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
        pids = _ray_pids(http, job_id)
        assert len(pids) == 1 and pids[0] != ray_server.process.pid  # type: ignore[union-attr]
        assert http.get("/v1/models/rayed/versions/1").json()["source_job_id"] == job_id


def test_killed_ray_worker_resumes_from_checkpoint(ray_server: LiveServer) -> None:
    with ray_server.client() as http:
        job_id = http.post("/v1/jobs", json=SLOW_JOB).json()["id"]
        running = _running_at_epoch(http, job_id, 3)
        os.kill(running["worker"]["pid"], signal.SIGKILL)
        done = wait_for_job(_get(http), job_id, timeout_s=300)
        assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
        assert done["attempt"] == 2
        assert_resumed_from_checkpoint(_progress_events(http, job_id))
        assert len(set(_ray_pids(http, job_id))) == 2
        assert http.get("/v1/models/slow/versions").json()["count"] == 1


def test_api_restart_during_ray_job_loses_nothing(ray_server: LiveServer) -> None:
    with ray_server.client() as http:
        job_id = http.post("/v1/jobs", json=SLOW_JOB).json()["id"]
        _running_at_epoch(http, job_id, 2)
    ray_server.stop()
    ray_server.start(timeout_s=120)
    with ray_server.client() as http:
        done = wait_for_job(_get(http), job_id, timeout_s=300)
        assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
        assert done["attempt"] == 1  # the detached actor kept training through the restart
        assert len(_ray_pids(http, job_id)) == 1
        assert http.get("/v1/models/slow/versions").json()["count"] == 1
        epochs = [h["epoch"] for h in _progress_events(http, job_id)]
        assert epochs == list(range(1, 13))


def test_sigterm_stops_a_ray_serve_as_it_stops_a_local_one(ray_server: LiveServer) -> None:
    """`aesvc serve` checks the cluster before the app starts; ray.init on the main thread
    put in Ray's SIGTERM handler, which uvicorn called after its graceful shutdown: exit 15
    (a failure to systemd) where a local serve is stopped by the signal (-15) or exits 0."""
    rc = ray_server.stop(signal.SIGTERM, timeout_s=60)
    assert rc in (0, -signal.SIGTERM), f"exit {rc}: {ray_server.logs()}"
