"""The bad-input matrix (tests/bad_input.py) for the sweeps: create, list, read, cancel,
the curve plot. Every refusal comes before any row: the world's tables stay as they were
(no sweep, no job)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bad_input import (
    BAD_QUERY,
    DATASET,
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

BASE = {"architecture": {"hidden_sizes": [4]}, "training": {"epochs": 1}}
CODE = "architecture.code_size"


def body(**overrides: Any) -> dict[str, Any]:
    sweep = {"model": "new", "dataset": DATASET, "base": BASE, "grid": {CODE: [1, 2]}}
    return {"json": {**sweep, **overrides}}


def space(n_trials: int = 4, **dimension: Any) -> dict[str, Any]:
    dim = dimension or {"type": "int", "low": 1, "high": 4}
    return {"space": {CODE: dim}, "n_trials": n_trials, "seed": 0}


def sweep_cases() -> Iterator[Case]:
    route = "/v1/sweeps"
    too_many = {CODE: [1, 2, 3, 4, 5], "training.epochs": list(range(1, 53))}  # 260 > 256
    on_a_code = {"grid": {"architecture.kind": ["vae"], "architecture.tied_weights": [True]}}
    for kind, label, status, name, request in (
        ("extra-field", "unknown-dotted-path", 422, "grid.architecture.colour",
         body(grid={"architecture.colour": ["red"]})),
        ("extra-field", "path-under-a-leaf", 422, "grid.training.epochs.max",
         body(grid={"training.epochs.max": [2]})),
        ("extra-field", "unknown-space-path", 422, "random.space.training.colour",
         body(grid=None, random={"space": {"training.colour": {"type": "choice",
              "choices": [1]}}, "n_trials": 2})),
        ("out-of-range", "grid-code-size-zero", 422, f"grid.{CODE}", body(grid={CODE: [2, 0]})),
        ("wrong-shape", "grid-code-size-not-under-n-features", 422, f"grid.{CODE}",
         body(grid={CODE: [2, N_FEATURES]})),
        ("wrong-type", "grid-code-size-string", 422, f"grid.{CODE}", body(grid={CODE: ["four"]})),
        ("out-of-range", "grid-kind-unknown", 422, "grid.architecture.kind",
         body(grid={CODE: [2], "architecture.kind": ["dense", "transformer"]})),
        ("out-of-range", "grid-combination-refused", 422, "grid.architecture.tied_weights",
         {"json": {**body()["json"], **on_a_code,
                   "base": {"architecture": {"code_size": 2, "hidden_sizes": [4]}}}}),
        ("out-of-range", "base-value-refused", 422, "base.training.epochs",
         body(base={"training": {"epochs": 0}})),
        ("missing", "no-code-size-anywhere", 422, f"base.{CODE}",
         body(grid={"training.epochs": [1, 2]})),
        ("empty", "empty-grid", 422, "grid", body(grid={})),
        ("empty", "grid-path-without-values", 422, f"grid.{CODE}", body(grid={CODE: []})),
        ("out-of-range", "grid-past-max-sweep-trials", 422, "grid", body(grid=too_many)),
        # the split is the base's: the trials and the PCA baseline share its validation rows
        ("conflict", "grid-over-the-split-seed", 422, "grid.training.seed",
         body(grid={CODE: [2], "training.seed": [1, 2]})),
        ("conflict", "space-over-the-validation-fraction", 422,
         "random.space.training.validation_fraction",
         body(grid=None, random={"space": {"training.validation_fraction": {"type": "float",
              "low": 0.1, "high": 0.3}}, "n_trials": 2})),
        ("out-of-range", "n-trials-zero", 422, "random.n_trials",
         body(grid=None, random=space(0))),
        ("out-of-range", "n-trials-negative", 422, "tpe.n_trials", body(grid=None, tpe=space(-3))),
        ("out-of-range", "n-trials-past-max", 422, "random.n_trials",
         body(grid=None, random=space(257))),
        ("out-of-range", "space-range-refused", 422, f"random.space.{CODE}",
         body(grid=None, random=space(type="int", low=1, high=N_FEATURES))),
        ("out-of-range", "space-log-from-zero", 422, f"random.space.{CODE}.low",
         body(grid=None, random=space(type="int", low=0, high=4, log=True))),
        ("out-of-range", "space-low-above-high", 422, f"random.space.{CODE}.low",
         body(grid=None, random=space(type="int", low=4, high=2))),
        ("empty", "space-empty", 422, "random.space",
         body(grid=None, random={"space": {}, "n_trials": 2})),
        ("wrong-type", "space-dimension-type-unknown", 422, f"random.space.{CODE}.type",
         body(grid=None, random=space(type="normal", low=1, high=4))),
        ("missing", "no-search", 422, "grid", body(grid=None)),
        ("conflict", "two-searches", 422, "random", body(random=space())),
        ("out-of-range", "auroc-without-labels", 422, "metric", body(metric="auroc")),
        ("wrong-type", "metric-unknown", 422, "metric", body(metric="accuracy")),
        ("conflict", "normal-label-without-auroc", 422, "normal_label", body(normal_label=0)),
        ("out-of-range", "normal-label-past-int64", 422, "normal_label",
         body(metric="auroc", normal_label=2**64)),
        ("bad-alias", "promote-latest", 422, "promote", body(promote="latest")),
        ("bad-alias", "promote-a-number", 422, "promote", body(promote="7")),
        ("out-of-range", "max-parallel-zero", 422, "max_parallel", body(max_parallel=0)),
        ("out-of-range", "tolerance-negative", 422, "tolerance", body(tolerance=-0.1)),
        ("non-finite", "grid-learning-rate-nan", 422, "grid.training.learning_rate.0",
         raw(json.dumps(body(grid={CODE: [2], "training.learning_rate": [float("nan")]})[
             "json"]).encode())),
        ("missing", "no-model", 422, "model", {"json": {"dataset": DATASET, "grid": {CODE: [2]}}}),
        ("extra-field", "model-name-instead-of-model", 422, "model_name",
         body(model_name="new")),
        ("out-of-range", "model-name-pattern", 422, "model", body(model="-bad name")),
        ("out-of-range", "idempotency-key-too-long", 422, "Idempotency-Key",
         {**body(), "headers": {"idempotency-key": "k" * 256}}),
        (UNKNOWN, "dataset", 404, None, body(dataset="no-such-dataset")),
        ("empty", "empty-object", 422, "model", {"json": {}}),
        ("wrong-type", "body-is-a-list", 422, "body", {"json": [1]}),
        (MALFORMED_JSON, "truncated", 422, "body", raw(b'{"model": "new",')),
        (MEDIA_TYPE, "text-plain", 415, None,
         raw(json.dumps(body()["json"]).encode(), "text/plain")),
        (OVERSIZE, "body-over-limit", 413, None, oversize_json()),
    ):  # fmt: skip
        yield Case("POST", route, route, kind, label, status, name, request)
    yield from list_query_cases(route)
    yield Case("GET", route, route, BAD_QUERY, "status-unknown", 422, "status",
               {"params": {"status": "sleeping"}})  # fmt: skip
    for method, path in (
        ("GET", "/v1/sweeps/{sweep_id}"),
        ("POST", "/v1/sweeps/{sweep_id}/cancel"),
        ("GET", "/v1/sweeps/{sweep_id}/plots/curve.png"),
    ):
        yield Case(method, path, path.replace("{sweep_id}", NO_JOB), UNKNOWN, "sweep", 404)


CASES: list[Case] = [*sweep_cases()]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(bad_input_world: World, case: Case) -> None:
    assert_refused_and_unchanged(bad_input_world, case)


def test_a_refusal_names_the_offending_value(bad_input_world: World) -> None:
    """The message says which value of which combination the spec refused."""
    response = bad_input_world.client.post("/v1/sweeps", **body(grid={CODE: [2, 0]}))
    error = response.json()["errors"][0]
    # the pointer keeps the dotted path one key, as the request spells it
    assert error["field"] == f"grid.{CODE}" and error["pointer"] == f"/grid/{CODE}"
    base = bad_input_world.client.post("/v1/sweeps", **body(base={"training": {"epochs": 0}}))
    assert base.json()["errors"][0]["pointer"] == "/base/training/epochs"
    assert error["message"].startswith("0 is refused: ") and f"{CODE}=0" in error["message"]
    latest = bad_input_world.client.post("/v1/sweeps", **body(promote="latest")).json()
    assert "'latest'" in latest["errors"][0]["message"]


def test_a_float_range_over_an_integer_field_is_refused_before_any_job(
    client: TestClient,
) -> None:
    """Both ends of 2.0 to 8.0 are whole, so a check of the ends passed, and every value
    sampled between them was refused at its trial: a sweep of invalid trials."""
    body = {
        "model": "sr",
        "dataset": "digits",
        "base": {"architecture": {"hidden_sizes": [8]}, "training": {"epochs": 1}},
        "random": {
            "space": {"architecture.code_size": {"type": "float", "low": 2, "high": 8}},
            "n_trials": 4,
        },
    }
    response = client.post("/v1/sweeps", json=body)
    assert response.status_code == 422, response.text[:300]
    assert "architecture.code_size" in response.json()["errors"][0]["field"]
    assert client.get("/v1/jobs").json()["count"] == 0
