"""Open Inference Protocol v2: metadata, readiness, JSON and binary tensors, errors; the
answers match the native v1 endpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.inference.conftest import CODE_SIZE, DIGITS, settings_for

ROWS = DIGITS[:4]
V1 = "/v1/models/digits-ae/versions/1"
HEADER = "Inference-Header-Content-Length"


def native(client: TestClient, op: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{V1}/{op}", json=body)
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def infer_json(client: TestClient, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def tensor(name: str, array: np.ndarray, *, nested: bool = False) -> dict[str, Any]:
    data = array.tolist() if nested else array.reshape(-1).tolist()
    return {"name": name, "datatype": "FP32", "shape": list(array.shape), "data": data}


def test_server_endpoints(served: TestClient) -> None:
    meta = served.get("/v2").json()
    assert meta["name"] and meta["version"] and "binary_tensor_data" in meta["extensions"]
    assert served.get("/v2/health/live").status_code == 200
    assert served.get("/v2/health/ready").status_code == 200


def test_model_metadata_and_readiness(served: TestClient) -> None:
    meta = served.get("/v2/models/digits-ae").json()
    assert meta["name"] == "digits-ae" and meta["versions"] == ["1"] and meta["platform"]
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 64]}]
    assert [o["name"] for o in meta["outputs"]] == [
        "codings",
        "reconstruction",
        "reconstruction_error",
    ]
    assert meta["outputs"][0]["shape"] == [-1, CODE_SIZE]
    assert meta["outputs"][2]["shape"] == [-1]
    decoder = served.get("/v2/models/digits-ae.decoder/versions/1").json()
    assert decoder["inputs"][0] == {"name": "codings", "datatype": "FP32", "shape": [-1, CODE_SIZE]}
    assert decoder["outputs"] == [{"name": "output", "datatype": "FP32", "shape": [-1, 64]}]
    assert served.get("/v2/models/digits-ae/ready").status_code == 200
    assert served.get("/v2/models/digits-ae/versions/1/ready").status_code == 200
    for path in ("/v2/models/nope/ready", "/v2/models/digits-ae/versions/9", "/v2/models/nope"):
        response = served.get(path)
        assert response.status_code == 404 and "error" in response.json()


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_json_infer_matches_native(served: TestClient, nested: bool) -> None:
    body = {"id": "r1", "inputs": [tensor("input", ROWS, nested=nested)]}
    out = infer_json(served, "/v2/models/digits-ae/versions/1/infer", body)
    assert out["model_name"] == "digits-ae" and out["model_version"] == "1" and out["id"] == "r1"
    by_name = {o["name"]: o for o in out["outputs"]}
    assert set(by_name) == {"codings", "reconstruction", "reconstruction_error"}
    codings = np.asarray(by_name["codings"]["data"]).reshape(by_name["codings"]["shape"])
    np.testing.assert_allclose(
        codings, native(served, "encode", {"inputs": ROWS.tolist()})["codings"], atol=1e-6
    )
    recon = native(served, "reconstruct", {"inputs": ROWS.tolist()})
    assert by_name["reconstruction"]["shape"] == [4, 64]
    np.testing.assert_allclose(
        np.asarray(by_name["reconstruction"]["data"]).reshape(4, 64),
        recon["reconstructions"],
        atol=1e-5,
    )
    np.testing.assert_allclose(by_name["reconstruction_error"]["data"], recon["errors"], rtol=1e-5)


def test_requested_outputs_only_and_the_decoder(served: TestClient) -> None:
    body = {"inputs": [tensor("input", ROWS)], "outputs": [{"name": "codings"}]}
    out = infer_json(served, "/v2/models/digits-ae/infer", body)  # latest
    assert [o["name"] for o in out["outputs"]] == ["codings"]
    codings = np.asarray(out["outputs"][0]["data"], dtype=np.float32).reshape(4, CODE_SIZE)
    dec = infer_json(
        served, "/v2/models/digits-ae.decoder/infer", {"inputs": [tensor("codings", codings)]}
    )
    assert dec["outputs"][0]["name"] == "output" and dec["outputs"][0]["shape"] == [4, 64]
    np.testing.assert_allclose(
        np.asarray(dec["outputs"][0]["data"]).reshape(4, 64),
        native(served, "decode", {"codings": codings.tolist()})["outputs"],
        atol=1e-5,
    )


def binary_request(body: dict[str, Any], *arrays: np.ndarray) -> tuple[bytes, dict[str, str]]:
    head = json.dumps(body).encode()
    payload = head + b"".join(a.astype("<f4").tobytes() for a in arrays)
    return payload, {HEADER: str(len(head)), "content-type": "application/octet-stream"}


def test_binary_round_trip_matches_native(served: TestClient) -> None:
    x = ROWS.astype(np.float32)
    body = {
        "inputs": [
            {
                "name": "input",
                "datatype": "FP32",
                "shape": [4, 64],
                "parameters": {"binary_data_size": x.nbytes},
            }
        ],
        "outputs": [
            {"name": "reconstruction", "parameters": {"binary_data": True}},
            {"name": "reconstruction_error"},
        ],
    }
    payload, headers = binary_request(body, x)
    response = served.post(
        "/v2/models/digits-ae/versions/1/infer", content=payload, headers=headers
    )
    assert response.status_code == 200, response.text
    length = int(response.headers[HEADER])
    head = json.loads(response.content[:length])
    recon_meta, error_meta = head["outputs"]
    assert recon_meta["parameters"]["binary_data_size"] == 4 * 64 * 4 and "data" not in recon_meta
    recon = np.frombuffer(response.content[length:], dtype="<f4").reshape(4, 64)
    expected = native(served, "reconstruct", {"inputs": ROWS.tolist()})
    np.testing.assert_allclose(recon, expected["reconstructions"], atol=1e-5)
    np.testing.assert_allclose(error_meta["data"], expected["errors"], rtol=1e-5)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"inputs": [{**tensor("input", ROWS), "datatype": "INT32"}]}, "expected 'input' FP32"),
        ({"inputs": [{**tensor("input", ROWS), "shape": [4, 63]}]}, "[-1, 64]"),
        ({"inputs": [{**tensor("input", ROWS), "shape": [5, 64]}]}, "do not fill shape"),
        ({"inputs": [{**tensor("input", ROWS), "data": ["a"] * 256}]}, "not numbers"),
        ({"inputs": [tensor("x", ROWS)]}, "expected exactly one input 'input'"),
        ({"inputs": [tensor("input", ROWS)], "outputs": [{"name": "z"}]}, "unknown output"),
        ({"inputs": []}, "inputs"),
        ({"inputs": [{**tensor("input", ROWS), "data": [float("nan")] * 256}]}, "NaN"),
    ],
    ids=["datatype", "width", "length", "strings", "input-name", "output-name", "no-inputs", "nan"],
)
def test_bad_infer_requests_are_400_with_an_error(
    served: TestClient, body: dict[str, Any], needle: str
) -> None:
    response = served.post(
        "/v2/models/digits-ae/infer",
        content=json.dumps(body),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]


def test_binary_size_mismatch_and_unknown_model(served: TestClient) -> None:
    x = ROWS.astype(np.float32)
    body = {
        "inputs": [
            {
                "name": "input",
                "datatype": "FP32",
                "shape": [4, 64],
                "parameters": {"binary_data_size": x.nbytes - 4},
            }
        ]
    }
    payload, headers = binary_request(body, x)
    response = served.post("/v2/models/digits-ae/infer", content=payload, headers=headers)
    assert response.status_code == 400 and "binary_data_size" in response.json()["error"]
    response = served.post("/v2/models/nope/infer", json={"inputs": [tensor("input", ROWS)]})
    assert response.status_code == 404 and "nope" in response.json()["error"]


def test_service_errors_keep_their_status_where_the_protocol_allows() -> None:
    """A timeout is a 504 on /v2 as on /v1, not a 500; a full queue 503, a client gone 499."""
    from service.errors import ServiceUnavailable
    from service.inference.oip.tensors import _from_service_error
    from service.inference.runtime.pending import ClientGone, InferenceTimeout

    assert _from_service_error(InferenceTimeout("no answer in time")).status == 504
    assert _from_service_error(ServiceUnavailable("full", retry_after_s=1)).status == 503
    assert _from_service_error(ClientGone("gone")).status == 499


def test_a_request_for_codings_and_reconstructions_queues_its_rows_once(data_dir: Path) -> None:
    """Both come from one operation: the request's rows count once in the row budget (a
    queue that holds exactly one such request takes it, where counting them twice, once
    per operation, answered 503)."""
    settings = settings_for(
        data_dir, inference_inline_rows=0, max_request_rows=100, max_queue_rows=100
    )
    rows = DIGITS[:60]
    body = {"inputs": [tensor("input", rows)]}
    with TestClient(create_app(settings, start_workers=False)) as client:
        out = infer_json(client, "/v2/models/digits-ae/versions/1/infer", body)
        by_name = {o["name"]: np.asarray(o["data"]).reshape(o["shape"]) for o in out["outputs"]}
        assert set(by_name) == {"codings", "reconstruction", "reconstruction_error"}
        codings = native(client, "encode", {"inputs": rows.tolist()})["codings"]
        recon = native(client, "reconstruct", {"inputs": rows.tolist()})
        np.testing.assert_allclose(by_name["codings"], codings, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(
            by_name["reconstruction"], recon["reconstructions"], rtol=1e-5, atol=1e-5
        )
        np.testing.assert_allclose(
            by_name["reconstruction_error"], recon["errors"], rtol=1e-5, atol=1e-5
        )
        stats = client.get("/v2/models/digits-ae/versions/1/stats").json()["model_stats"][0]
        assert stats["inference_stats"]["success"]["count"] == 3  # one per request
