"""The service on a real S3 API (moto's server): jobs, registry, inference and exports with
every byte in the bucket (and in an Azure container, on Azurite); a corrupted object; the
store unreachable for seconds (503 + Retry-After for reads, a job's writes retried) and a
worker killed mid-checkpoint."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.artifacts import blob_key
from service.config import Settings
from service.main import create_app
from service.object_store import ObjectStore
from tests.factories import npy_bytes, wait_for_job
from tests.live import LiveServer, running
from tests.registry.builders import import_model, raw_rows
from tests.registry.test_corruption import assert_corrupted
from tests.s3 import Relay, S3Server, relayed
from tests.training.test_durability import (
    SLOW_JOB,
    _progress_events,
    _running_at_epoch,
    assert_resumed_from_checkpoint,
)

# unseeded: its artifacts move to a bucket
pytestmark = [pytest.mark.cluster, pytest.mark.alone, pytest.mark.unseeded]
ROWS = raw_rows(3).tolist()


def bucket(url: str, tmp_path: Path) -> ObjectStore:
    """The bucket as the tests see it, beside the service (no cache)."""
    return ObjectStore(url, spool_dir=tmp_path / "test-spool")


def on_s3(settings: Settings, url: str, **extra: Any) -> Settings:
    return settings.model_copy(update={"artifact_url": url, **extra})


def _get(http: httpx.Client) -> Any:
    return lambda path: http.get(path).json()


@pytest.fixture(params=["s3_url", "az_url"])
def any_store_url(request: pytest.FixtureRequest) -> str:
    """A fresh S3 bucket (moto) or Azure container (Azurite), its variables set."""
    return str(request.getfixturevalue(request.param))


def test_jobs_registry_and_inference_keep_every_byte_in_the_bucket(
    settings: Settings, any_store_url: str, tmp_path: Path
) -> None:
    store = bucket(any_store_url, tmp_path)
    with running(on_s3(settings, any_store_url), workers=1) as live, live.client() as http:
        upload = http.post(
            "/v1/datasets",
            files={"file": ("rows.npy", npy_bytes(raw_rows(64)), "application/octet-stream")},
            data={"name": "rows"},
        )
        assert upload.status_code == 201, upload.text
        body = {
            "model_name": "on-s3",
            "dataset": "rows",
            "architecture": {"code_size": 2, "hidden_sizes": [8]},
            "training": {"epochs": 3},
        }
        job_id = http.post("/v1/jobs", json=body).json()["id"]
        done = wait_for_job(_get(http), job_id, timeout_s=120)
        assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
        version = http.get("/v1/models/on-s3/versions/1").json()
        encoded = http.post("/v1/models/on-s3/versions/1/encode", json={"inputs": ROWS})
        assert encoded.status_code == 200 and len(encoded.json()["codings"][0]) == 2
        onnx = http.get("/v1/models/on-s3/versions/1/artifact", params={"format": "onnx"})
        assert onnx.status_code == 200
        keys = set(store.list_keys())
        for sha in (upload.json()["sha256"], version["artifact_sha256"]):
            assert blob_key(sha) in keys
        assert blob_key(onnx.headers["X-Checksum-Sha256"]) in keys
        assert not any(k.startswith("checkpoints/") for k in keys)  # removed once registered
        assert not (settings.data_dir / "artifacts").exists()  # nothing on the local disk
        # Deleting the model frees its weights and their exports in the bucket.
        assert http.delete("/v1/models/on-s3").status_code == 204
        keys = set(store.list_keys())
        assert blob_key(version["artifact_sha256"]) not in keys
        assert blob_key(onnx.headers["X-Checksum-Sha256"]) not in keys
        assert blob_key(upload.json()["sha256"]) in keys  # the dataset's stays


@pytest.fixture
def s3_client(settings: Settings, s3_url: str) -> Iterator[TestClient]:
    """In process, no read-through cache: every load reads the bucket."""
    app = create_app(on_s3(settings, s3_url, artifact_cache_bytes=0), start_workers=False)
    with TestClient(app) as client:
        yield client


def test_a_corrupted_object_is_refused_and_served_again_once_restored(
    s3_client: TestClient, s3_url: str, tmp_path: Path
) -> None:
    version = import_model(s3_client, "bad")
    sha256 = version["artifact_sha256"]
    s3 = bucket(s3_url, tmp_path)
    good = s3.get_raw(blob_key(sha256))
    s3.put_raw(blob_key(sha256), good[:-5] + bytes([good[-5] ^ 0xFF]) + good[-4:])
    for _ in range(2):
        assert_corrupted(
            s3_client.post("/v1/models/bad/versions/1/encode", json={"inputs": ROWS}), sha256
        )
    assert_corrupted(s3_client.get("/v1/models/bad/versions/1/artifact"), sha256)
    s3.put_raw(blob_key(sha256), good)
    assert (
        s3_client.post("/v1/models/bad/versions/1/encode", json={"inputs": ROWS}).status_code == 200
    )


@pytest.fixture
def relay(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, s3_url: str) -> Iterator[Relay]:
    """The service reaches the S3 server only through this relay (s3_url's bucket)."""
    with relayed(s3_server.port) as relay:
        monkeypatch.setenv("AWS_ENDPOINT_URL", relay.endpoint)
        yield relay


def test_the_store_unreachable_is_503_with_retry_after_then_it_recovers(
    settings: Settings, s3_url: str, relay: Relay
) -> None:
    app = create_app(on_s3(settings, s3_url, artifact_cache_bytes=0), start_workers=False)
    with TestClient(app) as client:
        import_model(client, "ae")
        relay.cut()
        started = time.monotonic()
        refused = [
            client.post("/v1/models/ae/versions/1/encode", json={"inputs": ROWS}),
            client.get("/v1/models/ae/versions/1/artifact"),
            client.post(
                "/v1/datasets",
                files={"file": ("x.npy", npy_bytes(raw_rows(8)), "application/octet-stream")},
                data={"name": "during-outage"},
            ),
        ]
        for response in refused:
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "5"
            assert response.json()["title"] == "Service Unavailable"
            assert "artifact store is unavailable" in response.json()["detail"]
        assert time.monotonic() - started < 30  # each gives up within seconds
        assert client.get("/v1/datasets/during-outage").status_code == 404  # nothing half-made
        relay.restore()
        assert (
            client.post("/v1/models/ae/versions/1/encode", json={"inputs": ROWS}).status_code == 200
        )


@pytest.fixture
def relayed_server(settings: Settings, s3_url: str, relay: Relay) -> Iterator[LiveServer]:
    fast = on_s3(settings, s3_url, lease_timeout_s=2.0, heartbeat_interval_s=0.3)
    with running(fast, workers=1, env={"AWS_ENDPOINT_URL": relay.endpoint}) as live:
        yield live


def test_jobs_outlast_store_outages_and_a_kill_mid_checkpoint(
    relayed_server: LiveServer, relay: Relay, s3_url: str, tmp_path: Path
) -> None:
    """One server, two jobs. (a) The store cut for seconds mid-job: the checkpoint writes
    wait and try again, the attempt goes on. (b) The worker killed while its checkpoint PUT
    cannot get through: the bucket holds the previous whole checkpoint, and attempt 2
    resumes from it."""
    s3 = bucket(s3_url, tmp_path)
    epochs = list(range(1, SLOW_JOB["training"]["epochs"] + 1))
    with relayed_server.client() as http:
        first = http.post("/v1/jobs", json=SLOW_JOB).json()["id"]
        _running_at_epoch(http, first, 2)
        relay.cut()
        time.sleep(4)  # several checkpoint writes' worth
        relay.restore()
        done = wait_for_job(_get(http), first, timeout_s=240)
        assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
        assert done["attempt"] == 1  # retried in place, not handed to a new attempt
        assert [e["epoch"] for e in _progress_events(http, first)] == epochs

        second = http.post("/v1/jobs", json=SLOW_JOB).json()["id"]
        running_job = _running_at_epoch(http, second, 3)
        relay.cut()
        time.sleep(1.5)  # the next epoch's checkpoint write is now waiting on the store
        os.kill(running_job["worker"]["pid"], signal.SIGKILL)
        relay.restore()
        assert s3.checkpoint(second).read() is not None  # the last whole checkpoint
        done = wait_for_job(_get(http), second, timeout_s=240)
        assert done["status"] == "succeeded", (done["error"], done["attempt_errors"])
        assert done["attempt"] == 2
        assert_resumed_from_checkpoint(_progress_events(http, second))
        versions = http.get("/v1/models/slow/versions").json()["data"]
        assert sorted(v["source_job_id"] for v in versions) == sorted([first, second])
    assert not any(k.startswith("checkpoints/") for k in s3.list_keys())
