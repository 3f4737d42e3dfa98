"""The bad-input matrix across the domains (tests/bad_input.py has its parts; the cases
live beside each domain's tests). Here: every input-taking operation of the schema has
a case of every kind that applies to it, a bad API key is refused without a trace on
every kind of write, and the footprint check itself can fail.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.all_tables import Base
from service.main import create_app
from tests.bad_input import (
    AE,
    ALIAS,
    BAD_QUERY,
    BODY_KINDS,
    DATASET,
    DOMAIN_MODULES,
    MALFORMED_JSON,
    MALFORMED_MULTIPART,
    MALFORMED_NPY,
    MEDIA_TYPE,
    NPY,
    OVERSIZE,
    PROBLEM_JSON,
    UNKNOWN,
    Case,
    World,
    upload,
)
from tests.factories import job_body, npy_bytes, random_matrix


def all_cases() -> list[Case]:
    return [c for module in DOMAIN_MODULES for c in importlib.import_module(module).CASES]


# its path case (kind out-of-range). Unregistering a region that is not registered is no
# error (the shared memory extension's unregister is idempotent, as Triton's).
CREATES_ITS_PATH = {
    ("POST", "/v1/models/{name}/versions"),
    ("POST", "/v2/systemsharedmemory/region/{region}/register"),
    ("POST", "/v2/systemsharedmemory/region/{region}/unregister"),
}


def test_the_matrix_covers_every_operation(bad_input_world: World) -> None:
    """Each operation that takes input has a case of every kind that applies to it."""
    schema = bad_input_world.client.app.openapi()  # type: ignore[attr-defined]
    cases = all_cases()
    assert len({c.id for c in cases}) == len(cases), "two cases share an id"
    kinds: dict[tuple[str, str], set[str]] = {}
    for case in cases:
        kinds.setdefault((case.method, case.route), set()).add(case.kind)
    missing: list[str] = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            body = operation.get("requestBody", {}).get("content", {})
            if not params and not body:
                continue
            key = (method.upper(), path)
            have = kinds.get(key, set())
            wanted = set()
            if any(p["in"] == "path" for p in params) and key not in CREATES_ITS_PATH:
                wanted.add(UNKNOWN)
            if any(p["in"] == "query" for p in params):
                wanted.add(BAD_QUERY)
            if body:
                wanted.add(OVERSIZE)
                if not path.startswith("/v2"):  # OIP reads any body as its JSON header
                    wanted.add(MEDIA_TYPE)
            if "application/json" in body:
                wanted.add(MALFORMED_JSON)
            if "multipart/form-data" in body:
                wanted.add(MALFORMED_MULTIPART)
            if NPY in body or "application/octet-stream" in body:
                wanted.add(MALFORMED_NPY)
            if body and not have & (BODY_KINDS - {OVERSIZE, MEDIA_TYPE, MALFORMED_JSON}):
                missing.append(f"{method.upper()} {path}: no case with a wrong body value")
            missing += [f"{method.upper()} {path}: no {kind!r} case" for kind in wanted - have]
    assert not missing, "\n".join(missing)
    declared = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    stale = sorted({(c.method, c.route) for c in cases} - declared)
    assert not stale, f"cases for operations the schema does not have: {stale}"


@pytest.fixture(scope="module")
def guarded(bad_input_world: World) -> Iterator[TestClient]:
    """A second app on the same database and store, with API keys required."""
    settings = bad_input_world.settings.model_copy(update={"auth": "required"})
    with TestClient(create_app(settings, start_workers=False)) as client:
        yield client


BAD_KEYS = {
    "none": {},
    "not-a-service-key": {"authorization": "Bearer hunter2"},
    "unknown-key": {"authorization": "Bearer aesvc_000000000000_secret"},
    "empty-bearer": {"authorization": "Bearer "},
    "x-api-key-unknown": {"x-api-key": "aesvc_000000000000_secret"},
}
GUARDED_WRITES = {
    "create_job": ("POST", "/v1/jobs", {"json": job_body(dataset=DATASET, code_size=2)}),
    "set_model_alias": ("PUT", f"/v1/models/{AE}/aliases/{ALIAS}", {"json": {"version": 2}}),
    "delete_model_version": ("DELETE", f"/v1/models/{AE}/versions/2", {}),
    "encode": ("POST", f"/v1/models/{AE}/versions/1/encode", {"json": {"inputs": [[0.5] * 6]}}),
    "create_dataset": (
        "POST",
        "/v1/datasets",
        upload("x.npy", npy_bytes(random_matrix(4, 3)), name="keyless"),
    ),
}


@pytest.mark.parametrize("key", BAD_KEYS)
@pytest.mark.parametrize("operation", GUARDED_WRITES)
def test_a_bad_api_key_is_401_and_changes_nothing(
    bad_input_world: World, guarded: TestClient, operation: str, key: str
) -> None:
    method, url, request = GUARDED_WRITES[operation]
    before = bad_input_world.snapshot()
    response = guarded.request(method, url, headers=BAD_KEYS[key], **request)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401
    assert bad_input_world.snapshot() == before


def test_the_snapshot_sees_a_row_and_a_file(bad_input_world: World) -> None:
    """The footprint check can fail: a good upload shows in both halves, and deleting it
    restores both."""
    before = bad_input_world.snapshot()
    assert before[0]["dataset"] and before[0]["model_version"] and before[1]
    assert set(before[0]) >= {t.name for t in Base.metadata.sorted_tables}
    data = npy_bytes(random_matrix(4, 3, seed=9))
    response = bad_input_world.client.post(
        "/v1/datasets", files={"file": ("c.npy", data)}, data={"name": "canary"}
    )
    assert response.status_code == 201, response.text
    during = bad_input_world.snapshot()
    assert during[0]["dataset"] != before[0]["dataset"]
    assert len(during[1]) == len(before[1]) + 1
    assert bad_input_world.client.delete("/v1/datasets/canary").status_code == 204
    assert bad_input_world.snapshot() == before
