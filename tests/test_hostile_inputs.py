"""Cheap hostile inputs are a 4xx, quickly: JSON nested 100,000 deep (v1 rows, a job, a v2
inference), 5,000 query parameters with a limit past its range, a 60,000-character path
parameter."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_deeply_nested_json_is_a_4xx(client: TestClient) -> None:
    body = b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for path in ("/v1/models/m/versions/1/encode", "/v1/jobs", "/v2/models/m/infer"):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:200])


def test_many_query_parameters_are_cheap(client: TestClient) -> None:
    query = "&".join(f"p{i}=1" for i in range(5_000)) + "&limit=100000"
    response = client.get(f"/v1/jobs?{query}")  # parameters /v1/jobs does not take: the first
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "p0"
    query = "&".join(["limit=100000"] * 5_000)
    response = client.get(f"/v1/jobs?{query}")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "limit"


def test_a_long_path_parameter_is_a_4xx(client: TestClient) -> None:
    name = "m" * 60_000
    for method, path in (
        ("GET", f"/v1/models/{name}"),
        ("POST", f"/v1/models/{name}/versions/1/encode"),
        ("GET", f"/v2/models/{name}"),
        ("GET", f"/v1/jobs/{name}"),
        ("GET", f"/v1/datasets/{name}"),
    ):
        kwargs = {"json": {"inputs": [[1.0]]}} if method == "POST" else {}
        response = client.request(method, path, **kwargs)
        assert 400 <= response.status_code < 500, (path[:40], response.status_code)
