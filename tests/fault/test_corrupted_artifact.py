"""A flipped byte in a version's weights on disk, through real `aesvc serve` processes and
restarts: a fresh process refuses the version with the same problem+json the registry tests
show in process, every other version keeps serving, /readyz stays ready unless the corrupt
version is one AESVC_PRELOAD must warm, and restoring the bytes makes it serve again."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.config import Settings
from tests.factories import npy_bytes, wait_for
from tests.live import LiveServer
from tests.registry.builders import blob_path, flip_byte, model_blob, raw_rows
from tests.registry.test_corruption import assert_corrupted

pytestmark = pytest.mark.slow

ROWS = raw_rows(3)
BAD, GOOD = "/v1/models/bad/versions/1", "/v1/models/good/versions/1"


def answers(http: httpx.Client, base: str) -> dict[str, bytes]:
    """Every way the tests read a version, as the raw bytes of each 200 answer."""
    calls = {
        "encode": http.post(f"{base}/encode", json={"inputs": ROWS.tolist()}),
        "reconstruct": http.post(f"{base}/reconstruct", json={"inputs": ROWS.tolist()}),
        "encode.npy": http.post(
            f"{base}/encode",
            content=npy_bytes(ROWS),
            headers={"content-type": "application/x-npy", "accept": "application/x-npy"},
        ),
        "artifact": http.get(f"{base}/artifact"),
    }
    for name, response in calls.items():
        assert response.status_code == 200, (name, response.text)
    return {name: response.content for name, response in calls.items()}


def assert_refused(http: httpx.Client, sha256: str) -> None:
    for _ in range(2):  # refused every time, not once and then served from a bad cache
        assert_corrupted(http.post(f"{BAD}/encode", json={"inputs": ROWS.tolist()}), sha256)
    assert_corrupted(http.post(f"{BAD}/reconstruct", json={"inputs": ROWS.tolist()}), sha256)
    assert_corrupted(http.get(f"{BAD}/artifact"), sha256)
    assert http.get(BAD).status_code == 200  # the record is still readable


def restart(old: LiveServer, settings: Settings, **env: str) -> LiveServer:
    old.stop(signal.SIGTERM)
    return LiveServer(settings, workers=0, env=env).start(ready_path="/healthz")


def readiness(http: httpx.Client) -> tuple[int, dict[str, Any]]:
    response = http.get("/readyz")
    return response.status_code, response.json()


def preload_tried(http: httpx.Client) -> tuple[int, dict[str, Any]] | None:
    """The readiness answer once the preloader has tried every version once."""
    status, body = readiness(http)
    versions = body["checks"].get("models", {}).get("versions", {})
    tried = versions and all(state != "pending" for state in versions.values())
    return (status, body) if tried else None


def test_corrupted_weights_refused_by_a_fresh_process_until_restored(
    settings: Settings,
) -> None:
    server = LiveServer(settings, workers=0).start()
    with server.client() as http:
        for name, seed in (("bad", 0), ("good", 1)):
            blob, _ = model_blob(seed)
            files = {"file": ("model.safetensors", blob, "application/octet-stream")}
            created = http.post(f"/v1/models/{name}/versions", files=files)
            assert created.status_code == 201, created.text
        sha256 = http.get(BAD).json()["artifact_sha256"]
        bad_before, good_before = answers(http, BAD), answers(http, GOOD)
    path: Path = blob_path(settings, sha256)
    pristine = path.read_bytes()
    flip_byte(path)

    # A fresh process, nothing preloaded: only the corrupt version is refused.
    server = restart(server, settings)
    with server.client() as http:
        assert readiness(http)[0] == 200
        assert_refused(http, sha256)
        assert answers(http, GOOD) == good_before
        assert http.get("/v1/models").json()["count"] == 2
        assert readiness(http)[0] == 200

        path.write_bytes(pristine)  # restored: the same process serves it again
        assert answers(http, BAD) == bad_before

    # A fresh process that must warm the corrupt version: up, not ready, and says why.
    flip_byte(path)
    server = restart(server, settings, AESVC_PRELOAD="bad@1,good@latest")
    with server.client() as http:
        status, body = wait_for(lambda: preload_tried(http), timeout_s=60)
        assert status == 503 and body["failing"] == ["models"], body
        versions = body["checks"]["models"]["versions"]
        assert versions["good@latest"] == "loaded"
        assert "sha256" in versions["bad@1"] and sha256 in versions["bad@1"], versions
        assert_refused(http, sha256)
        assert answers(http, GOOD) == good_before

        path.write_bytes(pristine)  # restored: the preloader's retry makes it ready
        wait_for(lambda: readiness(http)[0] == 200, timeout_s=60)
        assert answers(http, BAD) == bad_before
    server.stop(signal.SIGTERM)
