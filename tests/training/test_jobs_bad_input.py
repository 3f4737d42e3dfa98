"""The bad-input matrix (tests/bad_input.py) for the jobs: submit, list, read, cancel,
follow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.bad_input import (
    BAD_QUERY,
    DATASET,
    IDEMPOTENCY_KEY,
    MALFORMED_JSON,
    MEDIA_TYPE,
    N_FEATURES,
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
from tests.factories import job_body


def job_cases() -> Iterator[Case]:
    route = "/v1/jobs"

    def body(**overrides: Any) -> dict[str, Any]:
        return {"json": job_body(**{"model_name": "new", "dataset": DATASET, **overrides})}

    for kind, label, status, name, request in (
        ("missing", "no-model", 422, "model",
         {"json": {"dataset": DATASET, "spec": {"architecture": {"code_size": 2}}}}),
        ("missing", "no-spec", 422, "spec", {"json": {"model": "new", "dataset": DATASET}}),
        ("missing", "no-architecture", 422, "spec.architecture",
         {"json": {"model": "new", "dataset": DATASET, "spec": {}}}),
        ("out-of-range", "model-name-pattern", 422, "model", body(model_name="-bad name")),
        ("out-of-range", "model-name-reserved", 422, "model", body(model_name="stats")),
        # 0.x bodies are still read, but one body never mixes the two shapes
        ("conflict", "model-and-model-name", 422, "model_name",
         {"json": {**body()["json"], "model_name": "new"}}),
        ("conflict", "spec-and-top-level-architecture", 422, "architecture",
         {"json": {**body()["json"], "architecture": {"code_size": 2}}}),
        ("missing", "0.x-no-model-name", 422, "model",
         {"json": {"dataset": DATASET, "architecture": {"code_size": 2}}}),
        ("out-of-range", "0.x-model-name-pattern", 422, "model_name",
         {"json": {"model_name": "-bad", "dataset": DATASET, "architecture": {"code_size": 2}}}),
        ("wrong-shape", "0.x-code-size-not-under-n-features", 422, "architecture.code_size",
         {"json": {"model_name": "new", "dataset": DATASET,
                   "architecture": {"code_size": N_FEATURES}}}),
        ("wrong-type", "code-size-string", 422, "spec.architecture.code_size",
         body(architecture={"code_size": "four"})),
        ("out-of-range", "code-size-zero", 422, "spec.architecture.code_size",
         body(architecture={"code_size": 0})),
        ("wrong-shape", "code-size-not-under-n-features", 422, "spec.architecture.code_size",
         body(architecture={"code_size": N_FEATURES})),
        ("wrong-shape", "conv-without-image-shape", 422, "spec.architecture.kind",
         body(architecture={"kind": "conv"})),
        ("wrong-shape", "too-many-hidden-layers", 422, "spec.architecture.hidden_sizes",
         body(architecture={"hidden_sizes": [4] * 9})),
        ("out-of-range", "tied-weights-on-a-vae", 422, "spec.architecture.tied_weights",
         body(architecture={"kind": "vae", "tied_weights": True})),
        ("out-of-range", "linear-path-with-tied-weights", 422, "spec.architecture.linear_path",
         body(architecture={"linear_path": True, "tied_weights": True})),
        ("out-of-range", "bce-on-standardized-data", 422, "spec.training.loss",
         body(training={"loss": "bce"})),
        ("out-of-range", "epochs-zero", 422, "spec.training.epochs", body(training={"epochs": 0})),
        ("out-of-range", "priority-too-high", 422, "priority", body(priority=1001)),
        ("wrong-type", "activation-unknown", 422, "spec.architecture.activation",
         body(architecture={"activation": "swish"})),
        ("non-finite", "learning-rate-nan", 422, "spec.training.learning_rate",
         raw(json.dumps(body(training={"learning_rate": float("nan")})["json"]).encode())),
        ("non-finite", "gradient-clip-infinity", 422, "spec.training.gradient_clip_norm",
         raw(json.dumps(body(training={"gradient_clip_norm": float("inf")})["json"]).encode())),
        ("non-finite", "denoising-std-infinity", 422, "spec.regularization.denoising.gaussian_std",
         raw(json.dumps(body(regularization={"denoising": {"gaussian_std": float("inf")}})[
             "json"]).encode())),
        ("extra-field", "unknown-key", 422, "bogus", body(bogus=1)),
        ("extra-field", "unknown-training-key", 422, "spec.training.bogus",
         body(training={"bogus": 1})),
        ("empty", "empty-body", 422, "body", raw(b"")),
        ("empty", "empty-object", 422, "dataset", {"json": {}}),
        ("wrong-type", "body-is-a-list", 422, "body", {"json": [1]}),
        ("conflict", "idempotency-key-reused", 409, None,
         {**body(), "headers": {"idempotency-key": IDEMPOTENCY_KEY}}),
        ("out-of-range", "idempotency-key-too-long", 422, "Idempotency-Key",
         {**body(), "headers": {"idempotency-key": "k" * 256}}),
        (UNKNOWN, "dataset", 404, None, body(dataset="no-such-dataset")),
        (MALFORMED_JSON, "truncated", 422, "body", raw(b'{"model_name": "new",')),
        (MALFORMED_JSON, "trailing-garbage", 422, "body", raw(b'{"model_name": "new"} x')),
        (MEDIA_TYPE, "text-plain", 415, None,
         raw(json.dumps(body()["json"]).encode(), "text/plain")),
        (MEDIA_TYPE, "form", 415, None, {"data": {"model_name": "new", "dataset": DATASET}}),
        (OVERSIZE, "body-over-limit", 413, None, oversize_json()),
    ):  # fmt: skip
        yield Case("POST", route, route, kind, label, status, name, request)
    yield from list_query_cases(route)
    yield Case("GET", route, route, BAD_QUERY, "status-unknown", 422, "status",
               {"params": {"status": "sleeping"}})  # fmt: skip
    for method, route in (
        ("GET", "/v1/jobs/{job_id}"),
        ("POST", "/v1/jobs/{job_id}/cancel"),
        ("GET", "/v1/jobs/{job_id}/events"),
        ("GET", "/v1/jobs/{job_id}/history"),
        ("GET", "/v1/jobs/{job_id}/plots/loss.png"),
    ):
        yield Case(method, route, route.replace("{job_id}", NO_JOB), UNKNOWN, "job", 404)
    events = "/v1/jobs/{job_id}/events"
    for label, after in (("after-negative", -1), ("after-past-int32", 2**31), ("after-text", "x")):
        yield Case("GET", events, "/v1/jobs/{job}/events", BAD_QUERY, label, 422, "after",
                   {"params": {"after": after}})  # fmt: skip
    yield from list_query_cases("/v1/jobs/{job_id}/history", "/v1/jobs/{job}/history")


CASES: list[Case] = [*job_cases()]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(bad_input_world: World, case: Case) -> None:
    assert_refused_and_unchanged(bad_input_world, case)
