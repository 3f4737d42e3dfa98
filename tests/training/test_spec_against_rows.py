"""Specs against the rows they train on: a linear model of more codings than training rows
trains, and a validation_fraction that leaves no training row is a 422 naming it."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from service.config import Settings
from tests.factories import npy_bytes, run_worker


def upload(client: TestClient, name: str, X: np.ndarray, **form: str) -> None:
    r = client.post(
        "/v1/datasets", files={"file": (f"{name}.npy", npy_bytes(X))}, data={"name": name, **form}
    )
    assert r.status_code == 201, r.text


def submit(client: TestClient, dataset: str, spec: dict[str, Any]) -> Any:
    return client.post("/v1/jobs", json={"model": "m", "dataset": dataset, "spec": spec})


def run_to_end(client: TestClient, settings: Settings, job_id: str) -> dict[str, Any]:
    assert run_worker(settings) == 1
    return client.get(f"/v1/jobs/{job_id}").json()


def test_a_linear_model_of_more_codings_than_training_rows_trains(
    client: TestClient, settings: Settings
) -> None:
    """50 rows x 100 features, kind linear, code size 64: 40 training rows give PCA only 40
    components; the PCA start fills those and starts the other codings at zero (it was a
    tensor size mismatch, retried as if transient)."""
    upload(client, "wide", np.random.default_rng(0).normal(size=(50, 100)).astype(np.float32))
    spec = {
        "architecture": {"kind": "linear", "code_size": 64},
        "training": {"epochs": 2, "max_attempts": 1},
    }
    r = submit(client, "wide", spec)
    assert r.status_code == 202, r.text
    job = run_to_end(client, settings, r.json()["id"])
    assert job["status"] == "succeeded", job


def test_a_validation_fraction_leaving_no_training_rows_is_refused_naming_it(
    client: TestClient, settings: Settings
) -> None:
    """4 rows and validation_fraction 0.875: round(3.5) = 4 validation rows, none to train
    on. The submission knows n_rows, yet queues the job, which then fails without naming
    the field to change ("4 rows cannot be split into training and validation")."""
    upload(client, "tiny", np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32))
    spec = {
        "architecture": {"kind": "dense", "code_size": 2, "hidden_sizes": [4]},
        "training": {"epochs": 2, "validation_fraction": 0.875, "max_attempts": 1},
    }
    r = submit(client, "tiny", spec)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "spec.training.validation_fraction", r.text
