"""A flipped byte in a stored artifact is detected on every load and download, never served."""

from __future__ import annotations

import hashlib

import httpx
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.registry.builders import blob_path, flip_byte, import_model, raw_rows

ROWS = raw_rows(3).tolist()
V1 = "/v1/models/ae/versions/1"


def assert_corrupted(response: httpx.Response, sha256: str) -> None:
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Artifact Corrupted"
    assert sha256 in body["detail"] and "sha256" in body["detail"]


def test_corrupted_artifact_is_never_served(client: TestClient, settings: Settings) -> None:
    version = import_model(client, "ae")
    sha256 = version["artifact_sha256"]
    flip_byte(blob_path(settings, sha256))  # before any request has loaded the model

    assert_corrupted(client.post(f"{V1}/encode", json={"inputs": ROWS}), sha256)
    assert_corrupted(client.post(f"{V1}/reconstruct", json={"inputs": ROWS}), sha256)
    assert_corrupted(client.get(f"{V1}/artifact"), sha256)
    assert_corrupted(client.get(f"{V1}/artifact", params={"format": "onnx"}), sha256)
    assert_corrupted(client.get(f"{V1}/artifact", params={"format": "torchscript"}), sha256)
    assert client.get(V1).status_code == 200  # the record itself is still readable


def test_a_loaded_model_keeps_serving_but_nothing_new_loads_it(
    client: TestClient, settings: Settings
) -> None:
    """The cache holds the weights that passed the check when they were loaded; the bytes on
    disk are what went bad. Downloads, exports and every other process refuse them."""
    version = import_model(client, "ae")
    sha256 = version["artifact_sha256"]
    before = client.post(f"{V1}/encode", json={"inputs": ROWS})
    assert before.status_code == 200
    client.get(f"{V1}/artifact", params={"format": "torchscript"})  # cache an export too
    flip_byte(blob_path(settings, sha256))

    assert client.post(f"{V1}/encode", json={"inputs": ROWS}).json() == before.json()
    assert_corrupted(client.get(f"{V1}/artifact"), sha256)
    assert_corrupted(client.get(f"{V1}/artifact", params={"format": "torchscript"}), sha256)
    with TestClient(create_app(settings, start_workers=False)) as fresh:  # a fresh process
        assert_corrupted(fresh.post(f"{V1}/encode", json={"inputs": ROWS}), sha256)


def test_a_matching_etag_is_answered_from_the_record_and_a_full_download_checks_the_file(
    client: TestClient, settings: Settings
) -> None:
    """A 304 is decided on the version's row (the ETag is the blob's sha256), without
    reading the blob; a 200 checks the whole file before its first byte is sent."""
    version = import_model(client, "ae")
    sha256 = version["artifact_sha256"]
    whole = client.get(f"{V1}/artifact")
    assert whole.status_code == 200
    assert whole.headers["content-length"] == str(len(whole.content))
    assert hashlib.sha256(whole.content).hexdigest() == sha256
    flip_byte(blob_path(settings, sha256))

    etag = whole.headers["etag"]
    cached = client.get(f"{V1}/artifact", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.headers["etag"] == etag
    assert_corrupted(client.get(f"{V1}/artifact"), sha256)


def test_a_corrupted_export_is_never_sent(client: TestClient, settings: Settings) -> None:
    import_model(client, "ae")
    built = client.get(f"{V1}/artifact", params={"format": "torchscript"})
    assert built.status_code == 200
    export_sha256 = built.headers["x-checksum-sha256"]
    flip_byte(blob_path(settings, export_sha256))

    assert_corrupted(client.get(f"{V1}/artifact", params={"format": "torchscript"}), export_sha256)
