"""The Open Inference Protocol's model repository extension: the index says which ready
versions are loaded, load warms a version before traffic, unload frees it (and the next
request loads it again); errors are the protocol's 400s."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.inference.conftest import DIGITS, settings_for

INDEX = "/v2/repository/index"
V1 = "/v1/models/digits-ae/versions/1"


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    """A fresh app per test: nothing loaded at the start."""
    with TestClient(create_app(settings_for(data_dir), start_workers=False)) as client:
        yield client


def index(client: TestClient, body: dict[str, Any] | None = None) -> dict[str, tuple[str, str]]:
    response = client.post(INDEX, json=body) if body is not None else client.post(INDEX)
    assert response.status_code == 200, response.text
    return {f"{e['name']}@{e['version']}": (e["state"], e["reason"]) for e in response.json()}


def loaded_gauge(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("aesvc_loaded_model_versions "):
            return float(line.split()[1])
    raise AssertionError("no aesvc_loaded_model_versions in /metrics")


def error_of(response: Any) -> str:
    assert response.status_code == 400, response.text
    message: str = response.json()["error"]
    return message


def test_index_load_unload(client: TestClient) -> None:
    assert "model_repository" in client.get("/v2").json()["extensions"]
    assert index(client) == {
        "digits-ae@1": ("UNAVAILABLE", "unloaded"),
        "digits-vae@1": ("UNAVAILABLE", "unloaded"),
    }
    assert index(client, {"ready": True}) == {}
    assert loaded_gauge(client) == 0

    assert client.post("/v2/repository/models/digits-ae/load").status_code == 200
    assert index(client) == {
        "digits-ae@1": ("READY", ""),
        "digits-vae@1": ("UNAVAILABLE", "unloaded"),
    }
    assert index(client, {"ready": True}) == {"digits-ae@1": ("READY", "")}
    assert loaded_gauge(client) == 1
    body = {"parameters": {"version": "1"}}
    assert (
        client.post("/v2/repository/models/digits-vae.decoder/load", json=body).status_code == 200
    )
    assert loaded_gauge(client) == 2

    assert client.post("/v2/repository/models/digits-ae/unload", json={}).status_code == 200
    assert index(client)["digits-ae@1"] == ("UNAVAILABLE", "unloaded")
    assert loaded_gauge(client) == 1
    # the next request loads it again, and answers as before
    response = client.post(
        "/v1/models/digits-ae/versions/1/encode", json={"inputs": DIGITS[:2].tolist()}
    )
    assert response.status_code == 200 and np.asarray(response.json()["codings"]).shape[0] == 2
    assert index(client)["digits-ae@1"] == ("READY", "")


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("models/nope/load", None, "failed to load 'nope'"),
        ("models/digits-ae/load", {"parameters": {"version": "9"}}, "failed to load 'digits-ae'"),
        ("models/digits-ae/load", {"parameters": {"config": "{}"}}, "'config' is not supported"),
        ("models/digits-ae/load", {"parameters": {"version": True}}, "not a number or alias"),
        ("models/digits-ae/load", {"params": {}}, "invalid load request: params"),
        ("models/nope/unload", None, "failed to unload 'nope'"),
        ("models/digits-ae/unload", {"parameters": {"x": 1}}, "'x' is not supported"),
        ("index", {"ready": "maybe"}, "invalid index request: ready"),
    ],
    ids=["unknown", "no-version", "config", "version-type", "extra", "unload", "param", "ready"],
)
def test_repository_errors(
    client: TestClient, path: str, body: dict[str, Any] | None, needle: str
) -> None:
    url = f"/v2/repository/{path}"
    response = client.post(url, json=body) if body is not None else client.post(url)
    assert needle in error_of(response)
    assert index(client, {"ready": True}) == {}  # nothing was loaded


def test_malformed_bodies(client: TestClient) -> None:
    headers = {"content-type": "application/json"}
    for path in ("index", "models/digits-ae/load", "models/digits-ae/unload"):
        response = client.post(f"/v2/repository/{path}", content=b"{", headers=headers)
        assert "invalid" in error_of(response), path


def loaded_versions(client: TestClient) -> list[Any]:
    """The cache's loaded versions (objects, not keys)."""
    _, cache = client.app.state.ctx.inference()  # type: ignore[attr-defined]
    return list(cache.loaded_models())


def settle(client: TestClient) -> None:
    """A few turns of the app's event loop (closing a batcher ends its task on a later
    turn), then a full collection."""
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    gc.collect()


@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
def test_unload_frees_the_weights_and_a_reload_serves_the_new_copy(
    data_dir: Path, backend: str
) -> None:
    """The batchers hold the version's backend: keyed by the loaded object, they close when
    it leaves the cache, and a version loaded again gets batchers of its own (keyed by its
    cache key, they kept the unloaded copy alive and served it after a reload)."""
    settings = settings_for(data_dir, inference_backend=backend)
    with TestClient(create_app(settings, start_workers=False)) as client:
        _unload_and_reload(client)


def _unload_and_reload(client: TestClient) -> None:
    encode = f"{V1}/encode"
    body = {"inputs": DIGITS[:3].tolist()}
    want = client.post(encode, json=body).json()["codings"]
    (first,) = loaded_versions(client)
    gone = [weakref.ref(first), weakref.ref(first.model), weakref.ref(first.backend)]
    del first
    assert client.post("/v2/repository/models/digits-ae/unload").status_code == 200
    settle(client)
    assert [ref() is None for ref in gone] == [True, True, True]
    again = client.post(encode, json=body)
    assert again.status_code == 200
    np.testing.assert_allclose(again.json()["codings"], want, rtol=1e-6)
    (second,) = loaded_versions(client)
    copies = [weakref.ref(second)]
    assert client.post("/v2/repository/models/digits-ae/unload").status_code == 200
    assert client.post(encode, json=body).status_code == 200  # a third copy, loaded again
    del second
    settle(client)
    assert copies[0]() is None


def test_the_index_comes_in_pages(client: TestClient) -> None:
    first = client.post(INDEX, json={"limit": 1})
    assert first.status_code == 200, first.text
    assert [e["name"] for e in first.json()] == ["digits-ae"]
    token = first.headers["Next-Page-Token"]
    rest = client.post(INDEX, json={"limit": 1, "page_token": token})
    assert [e["name"] for e in rest.json()] == ["digits-vae"]
    assert "Next-Page-Token" not in rest.headers
    # ready only: the pages hold loaded versions only, whichever rows lie between them
    assert client.post("/v2/repository/models/digits-vae/load").status_code == 200
    ready = client.post(INDEX, json={"ready": True, "limit": 1})
    assert [(e["name"], e["state"]) for e in ready.json()] == [("digits-vae", "READY")]
    assert "Next-Page-Token" not in ready.headers
    # a token made for the whole index is not one for the ready-only index
    mixed = client.post(INDEX, json={"ready": True, "page_token": token})
    assert mixed.status_code == 400 and "page_token" in mixed.json()["error"]
    assert client.post(INDEX, json={"limit": 0}).status_code == 400
