"""The Open Inference Protocol's statistics extension: per-version counts and durations of
what the batchers did, for every operation, in the shape Triton answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.inference.conftest import DIGITS, settings_for

V1 = "/v1/models/digits-ae/versions/1"


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    """A fresh app per test: every count starts at 0."""
    with TestClient(create_app(settings_for(data_dir), start_workers=False)) as client:
        yield client


def stats(client: TestClient, path: str = "/v2/models/stats") -> dict[str, dict[str, Any]]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return {f"{s['name']}@{s['version']}": s for s in response.json()["model_stats"]}


def test_counts_and_durations_per_version(client: TestClient) -> None:
    assert "statistics" in client.get("/v2").json()["extensions"]
    before = stats(client)
    assert set(before) == {"digits-ae@1", "digits-vae@1"}
    zero = {"count": 0, "ns": 0}
    assert before["digits-ae@1"]["inference_stats"]["success"] == zero
    assert before["digits-ae@1"]["inference_count"] == 0
    assert before["digits-ae@1"]["batch_stats"] == []

    started_ms = time.time() * 1000
    for rows in (2, 3, 4):
        response = client.post(f"{V1}/encode", json={"inputs": DIGITS[:rows].tolist()})
        assert response.status_code == 200
    body = {
        "inputs": [
            {
                "name": "input",
                "datatype": "FP32",
                "shape": [5, 64],
                "data": DIGITS[:5].ravel().tolist(),
            }
        ],
        "outputs": [{"name": "codings"}],
    }
    assert client.post("/v2/models/digits-ae/infer", json=body).status_code == 200
    assert client.post(f"{V1}/encode", json={"inputs": [[1.0] * 63]}).status_code == 422

    ae = stats(client)["digits-ae@1"]
    assert ae["inference_count"] == 2 + 3 + 4 + 5  # rows; the 422 never reached a batcher
    assert ae["execution_count"] == 4  # one request at a time: one batch each
    inference = ae["inference_stats"]
    assert inference["success"]["count"] == 4 and inference["success"]["ns"] > 0
    assert inference["queue"]["count"] == 4 and inference["fail"] == zero
    assert inference["compute_infer"]["count"] == 4
    assert 0 < inference["compute_infer"]["ns"] <= inference["success"]["ns"]
    assert [b["batch_size"] for b in ae["batch_stats"]] == [2, 3, 4, 5]
    assert all(b["compute_infer"]["count"] == 1 for b in ae["batch_stats"])
    assert started_ms <= ae["last_inference"] <= time.time() * 1000
    assert stats(client)["digits-vae@1"]["inference_count"] == 0

    # a request counts once: an OIP request for every output (one operation, reconstruct,
    # gives them all) and an interpolate (two: encode, then decode)
    body["outputs"] = []
    assert client.post("/v2/models/digits-ae/infer", json=body).status_code == 200
    ends = {"start": DIGITS[0].tolist(), "end": DIGITS[1].tolist(), "steps": 7}
    assert client.post(f"{V1}/interpolate", json=ends).status_code == 200
    ae = stats(client)["digits-ae@1"]
    assert ae["inference_count"] == 14 + 5 + 7
    assert ae["inference_stats"]["success"]["count"] == 4 + 2
    assert ae["execution_count"] == 4 + 1 + 2  # the batches each ran

    # one version, by number, alias or `latest`; the decoder's name reports its model
    for path in (
        "digits-ae/versions/1",
        "digits-ae/versions/latest",
        "digits-ae",
        "digits-ae.decoder",
    ):
        assert stats(client, f"/v2/models/{path}/stats") == {"digits-ae@1": ae}


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("/v2/models/nope/stats", "no model named 'nope'"),
        ("/v2/models/digits-ae/versions/9/stats", "has no version '9'"),
        ("/v2/models/digits-ae/versions/prod/stats", "has no alias 'prod'"),
    ],
)
def test_unknown_models_and_versions_are_400(client: TestClient, path: str, needle: str) -> None:
    response = client.get(path)
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]


def test_statistics_come_in_pages(client: TestClient) -> None:
    first = client.get("/v2/models/stats", params={"limit": 1})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [s["name"] for s in page["model_stats"]] == ["digits-ae"] and page["next_page_token"]
    rest = client.get(
        "/v2/models/stats", params={"limit": 1, "page_token": page["next_page_token"]}
    ).json()
    assert [s["name"] for s in rest["model_stats"]] == ["digits-vae"]
    assert rest["next_page_token"] is None
    assert client.get("/v2/models/stats").json()["next_page_token"] is None  # 1,000 a page
    one_model = client.get("/v2/models/digits-ae/stats", params={"limit": 1}).json()
    assert [s["version"] for s in one_model["model_stats"]] == ["1"]
    assert one_model["next_page_token"] is None
    # a token is bound to what it was made for: another model's list refuses it
    other = client.get(
        "/v2/models/digits-vae/stats", params={"page_token": page["next_page_token"]}
    )
    assert other.status_code == 400 and "page_token" in other.json()["error"]
    garbage = client.get("/v2/models/stats", params={"page_token": "nope"})
    assert garbage.status_code == 400 and "page_token" in garbage.json()["error"]
    assert client.get("/v2/models/stats", params={"limit": 0}).status_code == 400
