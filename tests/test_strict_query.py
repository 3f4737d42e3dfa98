"""A query parameter a /v1 resource route does not take is 422 naming it (a misspelt
`?fromat=onnx` downloaded safetensors that README's command saved as `encoder.onnx`, and
`?stauts=failed` listed every job); the parameters routes and their dependencies declare
still work, and the probes take what they are sent."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from tests.registry.builders import model_blob


def refused(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    return error["field"], error["message"]


def test_a_misspelt_query_parameter_is_named(client: TestClient) -> None:
    field, message = refused(client.get("/v1/jobs?stauts=failed"))
    assert field == "stauts" and "'status'" in message and "'page_token'" in message
    field, message = refused(client.get("/v1/datasets/digits?limit=3"))
    assert field == "limit" and message.endswith("expected one of ['view']")
    field, _ = refused(client.post("/v1/jobs?dry_run=true", json={}))
    assert field == "dry_run"


def test_the_parameters_a_route_takes_still_work(client: TestClient) -> None:
    assert client.get("/v1/jobs?status=failed&limit=5&order_by=-created_at").status_code == 200
    assert client.get("/v1/datasets?limit=1").status_code == 200
    assert client.get("/healthz?probe=lb").status_code == 200  # probes take what they get


def test_an_export_asked_with_a_misspelt_format_is_refused(client: TestClient) -> None:
    blob, _ = model_blob(seed=1)
    assert client.post("/v1/models/m/versions", files={"file": ("m.st", blob)}).status_code == 201
    artifact = "/v1/models/m/versions/latest/artifact"
    field, message = refused(client.get(f"{artifact}?fromat=onnx&part=encoder"))
    assert field == "fromat" and "'format'" in message and "'part'" in message
    assert client.get(f"{artifact}?format=onnx&part=encoder").status_code == 200
