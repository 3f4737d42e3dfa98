"""An object store that fails under requests that need it: a hung server is a 503 within
seconds, a download never starts a 200 it cannot finish, and a delete answered 503 has
deleted nothing (its retry frees the bytes in the bucket)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.artifacts import blob_key
from service.config import Settings
from service.main import create_app
from service.object_store import ObjectStore
from tests.factories import npy_bytes
from tests.live import running
from tests.registry.builders import import_model, raw_rows
from tests.s3 import Relay, S3Server, relayed

# unseeded: its artifacts live in a bucket
pytestmark = [pytest.mark.cluster, pytest.mark.alone, pytest.mark.unseeded]
ROWS = raw_rows(3).tolist()


@pytest.fixture
def relay(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, s3_url: str) -> Iterator[Relay]:
    with relayed(s3_server.port) as relay:
        monkeypatch.setenv("AWS_ENDPOINT_URL", relay.endpoint)
        yield relay


@pytest.fixture
def on_s3(settings: Settings, s3_url: str) -> Settings:
    return settings.model_copy(update={"artifact_url": s3_url, "artifact_cache_bytes": 0})


@pytest.fixture
def client(on_s3: Settings, relay: Relay) -> Iterator[TestClient]:
    with TestClient(create_app(on_s3, start_workers=False)) as client:
        yield client


def upload(client: TestClient | httpx.Client) -> dict[str, str]:
    response = client.post(
        "/v1/datasets",
        files={"file": ("rows.npy", npy_bytes(raw_rows(64)), "application/octet-stream")},
        data={"name": "rows"},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_hung_store_is_a_503_within_seconds(client: TestClient, relay: Relay) -> None:
    """Connections accepted, never answered: the read gives up after its stall time, not
    after a whole request's timeout (60 s), and the request is a 503 to retry."""
    import_model(client, "ae")
    relay.stall()
    try:
        started = time.monotonic()
        response = client.post("/v1/models/ae/versions/1/encode", json={"inputs": ROWS})
        elapsed = time.monotonic() - started
    finally:
        relay.restore()
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert elapsed < 15, f"the 503 came after {elapsed:.1f} s"
    again = client.post("/v1/models/ae/versions/1/encode", json={"inputs": ROWS})
    assert again.status_code == 200, again.text


def test_a_download_while_the_store_is_down_is_a_503_not_a_cut_body(
    on_s3: Settings, relay: Relay
) -> None:
    with (
        running(on_s3, workers=0, env={"AWS_ENDPOINT_URL": relay.endpoint}) as live,
        live.client() as http,
    ):
        upload(http)
        whole = http.get("/v1/datasets/rows/data")
        assert whole.status_code == 200
        relay.cut()
        try:
            with http.stream("GET", "/v1/datasets/rows/data") as response:
                status, retry_after = response.status_code, response.headers.get("Retry-After")
                body = response.read()
        finally:
            relay.restore()
        assert (status, retry_after) == (503, "5"), (status, body[:200])
        assert body.startswith(b"{") and b"unavailable" in body
        assert http.get("/v1/datasets/rows/data").content == whole.content


def test_a_dataset_delete_answered_503_deletes_nothing(
    client: TestClient, s3_url: str, relay: Relay, tmp_path: Path
) -> None:
    sha256 = upload(client)["sha256"]
    relay.cut()
    try:
        refused = client.delete("/v1/datasets/rows")
    finally:
        relay.restore()
    assert refused.status_code == 503, refused.text
    assert client.get("/v1/datasets/rows").status_code == 200  # there to retry on
    assert client.delete("/v1/datasets/rows").status_code == 204
    bucket = ObjectStore(s3_url, spool_dir=tmp_path / "spool")
    assert blob_key(sha256) not in bucket.list_keys()  # the retry freed its bytes


def test_a_model_or_version_delete_answered_503_deletes_nothing(
    client: TestClient, s3_url: str, relay: Relay, tmp_path: Path
) -> None:
    one = import_model(client, "ae", seed=0)
    two = import_model(client, "ae", seed=1)
    relay.cut()
    try:
        version = client.delete("/v1/models/ae/versions/2")
        model = client.delete("/v1/models/ae")
    finally:
        relay.restore()
    assert (version.status_code, model.status_code) == (503, 503), (version.text, model.text)
    listed = client.get("/v1/models/ae/versions").json()["data"]
    assert [(v["version"], v["status"]) for v in listed] == [(1, "ready"), (2, "ready")]
    assert client.delete("/v1/models/ae").status_code == 204
    keys = ObjectStore(s3_url, spool_dir=tmp_path / "spool").list_keys()
    assert not {blob_key(one["artifact_sha256"]), blob_key(two["artifact_sha256"])} & set(keys)
