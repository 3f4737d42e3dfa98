from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from service.config import Settings
from service.errors import MAX_ERRORS
from service.main import create_app
from tests.factories import job_body
from tests.live import free_port

PROBLEM_JSON = "application/problem+json"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert {"type", "code", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    assert body["type"].rsplit("/", 1)[1] == body["code"].replace("_", "-")
    for item in body.get("errors") or []:
        assert set(item) == {"field", "pointer", "message", "type"}, item
    return body


def test_each_cause_has_its_own_code_to_branch_on(client: TestClient) -> None:
    """Five causes answered 409 (and several 404) once shared one problem type."""
    codes = {
        "job_not_found": client.get("/v1/jobs/nope"),
        "dataset_not_found": client.get("/v1/datasets/nope"),
        "model_not_found": client.get("/v1/models/nope"),
    }
    files = {"file": ("x.csv", b"a,b\n1,2\n3,4\n", "text/csv")}
    assert client.post("/v1/datasets", files=files, data={"name": "taken"}).status_code == 201
    codes["dataset_name_taken"] = client.post("/v1/datasets", files=files, data={"name": "taken"})
    headers = {"Idempotency-Key": "k1"}
    assert client.post("/v1/jobs", json=job_body(), headers=headers).status_code == 202
    codes["idempotency_key_reused"] = client.post(
        "/v1/jobs", json=job_body(code_size=3), headers=headers
    )
    codes["dataset_in_use"] = client.delete("/v1/datasets/digits")  # the queued job uses it
    for code, response in codes.items():
        body = problem(response, response.status_code)
        assert body["code"] == code, (code, body)
    assert codes["dataset_in_use"].status_code == 409


def test_field_errors_carry_a_json_pointer(client: TestClient) -> None:
    body = problem(
        client.post("/v1/jobs", json=job_body(architecture={"code_size": 0, "hidden_sizes": [8]})),
        422,
    )
    item = next(e for e in body["errors"] if e["field"] == "spec.architecture.code_size")
    assert (
        item["pointer"] == "/spec/architecture/code_size" and item["type"] == "greater_than_equal"
    )
    assert body["code"] == "validation"
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "code" in schema["Problem"]["required"]
    assert schema["Problem"]["properties"]["errors"]["anyOf"][0]["items"] == {
        "$ref": "#/components/schemas/FieldError"
    }


def test_unknown_route_is_404(client: TestClient) -> None:
    body = problem(client.get("/v1/nothing-here"), 404)
    assert body["title"] == "Not Found"
    assert body["instance"] == "/v1/nothing-here"


def test_wrong_method_is_405(client: TestClient) -> None:
    response = client.put("/healthz")
    body = problem(response, 405)
    assert body["title"] == "Method Not Allowed"
    assert "GET" in response.headers["allow"]


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/jobs", content=b'{"model_name": "m",', headers={"content-type": "application/json"}
    )
    body = problem(response, 422)
    assert body["errors"] and body["errors"][0]["type"] == "json_invalid"
    assert client.get("/v1/jobs").json()["count"] == 0


def test_missing_field_is_422_naming_it(client: TestClient) -> None:
    body = problem(client.post("/v1/jobs", json={"dataset": "digits"}), 422)
    assert "model" in {e["field"] for e in body["errors"]}


def test_an_unknown_field_is_named_whatever_its_case(client: TestClient) -> None:
    """A capitalised typo ("Training", "Version", "N") was taken for a pydantic union tag
    and dropped: the answer named the object around it ("spec", or the whole body)."""
    spec = {"architecture": {"code_size": 2}, "Training": {"epochs": 1}}
    job = {"model": "m", "dataset": "digits", "spec": spec}
    body = problem(client.post("/v1/jobs", json=job), 422)
    assert [(e["field"], e["pointer"]) for e in body["errors"]] == [
        ("spec.Training", "/spec/Training")
    ]
    assert body["detail"].startswith("spec.Training: ")
    spec = {"architecture": {"kind": "dense", "code_size": 2, "Tied_weights": True}}
    body = problem(client.post("/v1/jobs", json={**job, "spec": spec}), 422)
    assert body["errors"][0]["pointer"] == "/spec/architecture/Tied_weights"
    body = problem(client.put("/v1/models/m/aliases/prod", json={"Version": 1}), 422)
    assert ("Version", "/Version") in {(e["field"], e["pointer"]) for e in body["errors"]}


def test_domain_errors_are_problems(client: TestClient) -> None:
    problem(client.get("/v1/datasets/nope"), 404)
    problem(client.get("/v1/models/nope"), 404)
    body = problem(client.get("/v1/datasets", params={"offset": -1}), 422)
    assert body["errors"][0]["field"] == "offset"


def test_body_over_the_json_limit_is_413(settings: Settings) -> None:
    limited = settings.model_copy(update={"max_control_body_bytes": 1000})
    with TestClient(create_app(limited, start_workers=False)) as small:
        body = problem(small.post("/v1/jobs", json={"model_name": "m" * 2000}), 413)
        assert body["limit_bytes"] == 1000
        assert small.get("/v1/jobs").json()["count"] == 0


def test_rows_and_weights_take_the_body_limit_and_the_rest_the_control_limit(
    settings: Settings,
) -> None:
    """A job, a sweep or tags are a few KB (AESVC_MAX_CONTROL_BODY_BYTES); rows (v1
    inference, v2 infer) may be large (AESVC_MAX_BODY_BYTES); a model import as large as the
    largest network the service takes (AESVC_MAX_MODEL_PARAMETERS, float64)."""
    limits = {"max_control_body_bytes": 1000, "max_body_bytes": 100_000}
    with TestClient(create_app(settings.model_copy(update=limits), start_workers=False)) as c:
        rows = {"inputs": [[0.5] * 64] * 40}  # about 10 KB
        for path in ("/v1/models/m/versions/1/encode", "/v1/models/m/versions/latest/score"):
            assert c.post(path, json=rows).status_code == 404  # no model m: not a 413
        infer = {
            "inputs": [
                {"name": "input", "shape": [40, 64], "datatype": "FP32", "data": rows["inputs"]}
            ]
        }
        assert c.post("/v2/models/m/infer", json=infer).status_code == 404
        weights = c.post("/v1/models/m/versions", files={"file": ("m.safetensors", b"x" * 5000)})
        assert weights.status_code == 422, weights.text  # not a safetensors file, not a 413
        past_rows = c.post("/v1/models/m/versions", files={"file": ("m", b"x" * 200_000)})
        assert past_rows.status_code == 422, past_rows.text  # past the rows' limit: not theirs
        import_limit = settings.model_copy(update=limits).resolved_max_import_bytes
        declared = {"content-type": "multipart/form-data; boundary=x"}
        declared["content-length"] = str(import_limit + 1)
        huge = c.post("/v1/models/m/versions", headers=declared, content=b"--x--\r\n")
        assert huge.status_code == 413 and huge.json()["limit_bytes"] == import_limit, huge.text
        padded = {"model_name": "m", "tags": {"pad": "x" * 2000}}
        for method, path in (
            ("POST", "/v1/jobs"),
            ("POST", "/v1/sweeps"),
            ("PATCH", "/v1/models/m"),
            ("POST", "/v2/repository/index"),
        ):
            r = c.request(method, path, json=padded)
            assert r.status_code == 413, (path, r.status_code, r.text[:200])


def test_the_schema_declares_the_error_answers_as_sent(client: TestClient) -> None:
    # Found by tests/test_fuzz.py: 404/409/... were undeclared, 422 was declared as
    # application/json (FastAPI's HTTPValidationError), the OIP probes as a JSON body.
    paths = client.get("/openapi.json").json()["paths"]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert paths["/v1/jobs"]["get"]["responses"]["422"]["content"] == problem
    assert paths["/v1/models/{name}"]["get"]["responses"]["404"]["content"] == problem
    assert paths["/v1/jobs/{job_id}/cancel"]["post"]["responses"]["409"]["content"] == problem
    assert "content" not in paths["/v2/health/live"]["get"]["responses"]["200"]
    oip_404 = paths["/v2/models/{name}/infer"]["post"]["responses"]["404"]["content"]
    oip_body = {"$ref": "#/components/schemas/OipErrorBody"}
    assert oip_404 == {"application/json": {"schema": oip_body}}
    assert client.get("/v1/jobs", params={"limit": 0}).headers["content-type"] == (
        "application/problem+json"
    )


def unreachable_postgres_url() -> str:
    """A PostgreSQL URL on a loopback port where nothing listens: every connect is refused."""
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/aesvc"


def test_database_unreachable_is_503_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", database_url=unreachable_postgres_url())
    # Not entered as a context manager: no lifespan, whose migrations would need the database.
    client = TestClient(create_app(settings, start_workers=False))
    for response in (
        client.get("/v1/jobs"),
        client.get("/v1/models"),
        client.get("/v1/datasets/digits"),
        client.post("/v1/jobs", json=job_body()),
    ):
        body = problem(response, 503)
        assert body["type"].endswith("/database-unavailable")
        assert "database is unavailable" in body["detail"]
        assert response.headers["retry-after"] == "5"
    assert client.get("/healthz").status_code == 200  # liveness needs no database
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["retry-after"] == "5"
    assert ready.json()["failing"] == ["database", "migrations"]


def test_a_nul_character_is_never_a_500(client: TestClient) -> None:
    """PostgreSQL's text cannot hold NUL: a 422 naming the parameter (SQLite finds nothing:
    404). Runs on both databases in CI."""
    for path, field in (
        ("/v1/datasets/a%00b", "id_or_name"),
        ("/v1/models/a%00b", "name"),
        ("/v1/jobs/a%00b", "job_id"),
        ("/v1/models/a%00b/versions/latest", "name"),
    ):
        response = client.get(path)
        assert response.status_code in (404, 422), (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        if response.status_code == 422:
            assert response.json()["errors"][0]["field"] == field, path
    response = client.post("/v1/jobs", json=job_body(dataset="digits\u0000"))
    assert response.status_code in (404, 422), response.text


def test_errors_under_v2_are_the_protocols_error_body(client: TestClient) -> None:
    """Routing errors under /v2 too (no route, wrong method) answer {"error": ...}."""
    for method, path, status in (
        ("GET", "/v2/nothing-here", 404),
        ("GET", "/v2/models/m/infer", 405),
    ):
        response = client.request(method, path)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        assert set(response.json()) == {"error"} and response.json()["error"]
    assert client.get("/v1/nothing-here").headers["content-type"] == PROBLEM_JSON


def test_model_names_that_v2_reads_otherwise_are_refused(client: TestClient) -> None:
    """/v2/models/stats is a route, and `<name>.decoder` is a model's decoder under /v2."""
    for name in ("stats", "STATS", "ae.decoder"):
        body = problem(client.post("/v1/jobs", json=job_body(model_name=name)), 422)
        assert body["errors"][0]["field"] == "model", body
        assert "reserved" in body["detail"] or ".decoder" in body["detail"]
        files = {"file": ("m.safetensors", b"x", "application/octet-stream")}
        refused = problem(client.post(f"/v1/models/{name}/versions", files=files), 422)
        assert refused["errors"][0]["field"] == "name"
    assert client.post("/v1/jobs", json=job_body(model_name="stats-ae")).status_code == 202


def test_a_body_of_many_bad_values_names_the_first_of_them(client: TestClient) -> None:
    """One error per bad value: the 422 names the first MAX_ERRORS, each once (the dedupe
    and the answer stay linear in the body; 8,000 errors took 0.95 s of the event loop)."""
    body = b'{"inputs": [[' + b",".join([b'"x"'] * 8000) + b"]]}"
    response = client.post(
        "/v1/models/m/versions/1/encode",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert len(errors) == MAX_ERRORS, len(errors)
    assert len({(e["pointer"], e["message"]) for e in errors}) == MAX_ERRORS
    assert errors[0]["pointer"] == "/inputs/0/0"
