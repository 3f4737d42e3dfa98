"""API replicas: two `aesvc serve --workers 0` against one PostgreSQL and one S3 server,
and an `aesvc worker` of their own. Nothing but the database and the bucket is shared."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.config import Settings
from tests.factories import wait_for, wait_for_job
from tests.live import LiveServer
from tests.registry.builders import import_model, raw_rows

pytestmark = [pytest.mark.cluster, pytest.mark.alone]
ROWS = raw_rows(3).tolist()
REF_CACHE_S = 1.0


@pytest.fixture
def replicas(
    settings: Settings, shared_database_url: str, s3_url: str, tmp_path: Path
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Each replica has a data folder of its own: no disk is shared."""
    servers = []
    for name in ("a", "b"):
        own = settings.model_copy(
            update={
                "data_dir": tmp_path / name / "var",
                "database_url": shared_database_url,
                "artifact_url": s3_url,
                "ref_cache_s": REF_CACHE_S,
            }
        )
        env = {"AESVC_REF_CACHE_S": str(REF_CACHE_S), "AESVC_BUILTIN_DATASETS": str(name == "a")}
        servers.append(LiveServer(own, workers=0, env=env).start())
    yield servers[0], servers[1]


@contextlib.contextmanager
def standalone_worker(api: LiveServer, data_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**api.env, "AESVC_DATA_DIR": str(data_dir)}
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "worker.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker"],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def encode(http: httpx.Client, ref: str) -> dict[str, Any]:
    response = http.post(f"/v1/models/ae/versions/{ref}/encode", json={"inputs": ROWS})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_replicas_share_versions_aliases_and_jobs_through_the_database_and_bucket(
    replicas: tuple[LiveServer, LiveServer], tmp_path: Path
) -> None:
    a, b = replicas
    with a.client() as http_a, b.client() as http_b:
        # A version registered through A serves from B, with the same numbers.
        import_model(http_a, "ae", seed=0)  # type: ignore[arg-type]
        import_model(http_a, "ae", seed=1)  # type: ignore[arg-type]
        assert encode(http_b, "1")["codings"] == encode(http_a, "1")["codings"]

        # An alias moved through A is served by B within AESVC_REF_CACHE_S.
        assert http_a.put("/v1/models/ae/aliases/prod", json={"version": 1}).status_code == 200
        assert encode(http_b, "prod")["version"] == 1
        assert http_a.put("/v1/models/ae/aliases/prod", json={"version": 2}).status_code == 200
        moved_at = time.monotonic()
        wait_for(lambda: encode(http_b, "prod")["version"] == 2, timeout_s=10, interval_s=0.05)
        assert time.monotonic() - moved_at <= REF_CACHE_S + 1.0

        # Jobs: submitted to A, trained by a worker that is neither, read from B; A killed
        # after the submission loses nothing.
        body = {
            "model_name": "trained",
            "dataset": "pca3d",
            "architecture": {"code_size": 2, "hidden_sizes": [4]},
            "training": {"epochs": 2},
        }
        job_id = http_a.post("/v1/jobs", json=body).json()["id"]
        a.stop(signal.SIGKILL)
        with standalone_worker(b, tmp_path / "worker" / "var"):
            done = wait_for_job(lambda path: http_b.get(path).json(), job_id, timeout_s=120)
        assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
        served = http_b.post("/v1/models/trained/versions/1/encode", json={"inputs": [[1, 2, 3]]})
        assert served.status_code == 200 and served.json()["version"] == 1
