"""The bad-input matrix (tests/bad_input.py) for the batch jobs: submit, list, read,
cancel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.bad_input import (
    AE,
    ALIAS,
    ARCHIVED,
    BAD_QUERY,
    DATASET,
    MALFORMED_JSON,
    MEDIA_TYPE,
    NARROW,
    NO_JOB,
    OVERSIZE,
    UNKNOWN,
    Case,
    World,
    assert_refused_and_unchanged,
    list_query_cases,
    oversize_json,
    raw,
)


def batch_cases() -> Iterator[Case]:
    route = "/v1/batch-jobs"

    def body(**overrides: Any) -> dict[str, Any]:
        good = {"model": AE, "version": ALIAS, "dataset": DATASET, "operation": "encode"}
        return {"json": {**good, **overrides}}

    def without(field: str) -> dict[str, Any]:
        return {"json": {k: v for k, v in body()["json"].items() if k != field}}

    for kind, label, status, name, request in (
        ("missing", "no-model", 422, "model", without("model")),
        ("missing", "no-dataset", 422, "dataset", without("dataset")),
        ("missing", "no-operation", 422, "operation", without("operation")),
        ("wrong-type", "operation-unknown", 422, "operation", body(operation="embed")),
        ("wrong-type", "operation-decode", 422, "operation", body(operation="decode")),
        ("wrong-type", "version-a-list", 422, "version", body(version=[1])),
        # not read as version 1 (or 0): a version is a number, an alias or `latest`
        ("wrong-type", "version-true", 422, "version", body(version=True)),
        ("wrong-type", "version-false", 422, "version", body(version=False)),
        # orjson refused it while taking the request's digest: a 500
        ("wrong-type", "version-lone-surrogate", 422, "version",
         raw(json.dumps(body(version="prod\ud800")["json"]).encode())),
        ("wrong-type", "body-is-a-list", 422, "body", {"json": [1]}),
        ("out-of-range", "model-pattern", 422, "model", body(model="-bad name")),
        ("out-of-range", "priority-too-high", 422, "priority", body(priority=1001)),
        ("out-of-range", "output-name-pattern", 422, "output", body(output="bad name!")),
        ("out-of-range", "output-name-an-id", 422, "output", body(output="a" * 32)),
        ("wrong-shape", "dataset-feature-count", 422, "dataset", body(dataset=NARROW)),
        ("extra-field", "model-name-not-model", 422, "model_name", body(model_name=AE)),
        ("extra-field", "unknown-key", 422, "bogus", body(bogus=1)),
        ("empty", "empty-body", 422, "body", raw(b"")),
        ("empty", "empty-object", 422, "model", {"json": {}}),
        ("empty", "empty-dataset", 422, "dataset", body(dataset="")),
        ("conflict", "output-is-an-existing-dataset", 409, None, body(output=DATASET)),
        ("out-of-range", "idempotency-key-too-long", 422, "Idempotency-Key",
         {**body(), "headers": {"idempotency-key": "k" * 256}}),
        (UNKNOWN, "model", 404, None, body(model="no-such-model")),
        (UNKNOWN, "version", 404, None, body(version=99)),
        (UNKNOWN, "version-past-64-bits", 404, None, body(version=2**70)),  # was a 500
        (UNKNOWN, "alias", 404, None, body(version="no-such-alias")),
        (UNKNOWN, "archived-version", 410, None, body(version=ARCHIVED)),
        (UNKNOWN, "dataset", 404, None, body(dataset="no-such-dataset")),
        (MALFORMED_JSON, "truncated", 422, "body", raw(b'{"model": "ae",')),
        (MEDIA_TYPE, "text-plain", 415, None,
         raw(json.dumps(body()["json"]).encode(), "text/plain")),
        (OVERSIZE, "body-over-limit", 413, None, oversize_json()),
    ):  # fmt: skip
        yield Case("POST", route, route, kind, label, status, name, request)
    yield from list_query_cases(route)
    yield Case("GET", route, route, BAD_QUERY, "status-unknown", 422, "status",
               {"params": {"status": "sleeping"}})  # fmt: skip
    for method, route in (
        ("GET", "/v1/batch-jobs/{job_id}"),
        ("POST", "/v1/batch-jobs/{job_id}/cancel"),
    ):
        yield Case(method, route, route.replace("{job_id}", NO_JOB), UNKNOWN, "job", 404)
        # a training job's id is not a batch job's
        yield Case(method, route, route.replace("{job_id}", "{queued}"), UNKNOWN, "train-job", 404)


CASES: list[Case] = [*batch_cases()]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(bad_input_world: World, case: Case) -> None:
    assert_refused_and_unchanged(bad_input_world, case)
