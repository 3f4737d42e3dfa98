"""The dashboard's plots on tiny datasets: every plot a version lists renders (a 5- or
6-row dataset leaves one validation row: the latent plot's projection was a 500); two
columns and one coding; a queued job's loss plot, and a model with no versions (404)."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from tests.factories import job_body, npy_bytes, run_worker


def upload(client: TestClient, name: str, X: np.ndarray) -> None:
    files = {"file": (f"{name}.npy", npy_bytes(X))}
    response = client.post("/v1/datasets", files=files, data={"name": name})
    assert response.status_code == 201, response.text


def train(
    client: TestClient, settings: Settings, name: str, dataset: str, code_size: int, **kw: Any
) -> tuple[dict[str, Any] | None, httpx.Response]:
    body = job_body(model_name=name, dataset=dataset, code_size=code_size, epochs=2, **kw)
    response = client.post("/v1/jobs", json=body)
    if response.status_code != 202:
        return None, response
    run_worker(settings)
    return client.get(f"/v1/jobs/{response.json()['id']}").json(), response


def every_plot_renders(client: TestClient, model: str) -> None:
    plots = client.get(f"/v1/models/{model}/versions/1/plots").json()["plots"]
    assert plots
    for plot in plots:
        response = client.get(f"/v1/models/{model}/versions/1/plots/{plot}.png")
        assert response.status_code == 200, (plot, response.status_code, response.text[:300])


@pytest.mark.parametrize("n_rows", [5, 6, 9])
def test_every_plot_renders_with_one_validation_row(
    client: TestClient, settings: Settings, n_rows: int
) -> None:
    upload(client, "tiny", np.random.default_rng(0).normal(size=(n_rows, 6)).astype(np.float32))
    job, response = train(client, settings, "tiny-ae", "tiny", 3)
    assert job is not None and job["status"] == "succeeded", (job, response.text)
    every_plot_renders(client, "tiny-ae")


def test_every_plot_renders_for_two_columns_and_one_coding(
    client: TestClient, settings: Settings
) -> None:
    upload(client, "onecol", np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32))
    job, response = train(
        client, settings, "onecol-ae", "onecol", 1, architecture={"kind": "linear"}
    )
    assert job is not None and job["status"] == "succeeded", (job, response.text)
    every_plot_renders(client, "onecol-ae")


def test_a_queued_jobs_loss_plot_and_a_model_without_versions(client: TestClient) -> None:
    job_id = client.post("/v1/jobs", json=job_body(model_name="q")).json()["id"]
    assert client.get(f"/v1/jobs/{job_id}/plots/loss.png").status_code == 200
    assert client.get("/v1/models/q/versions/1/plots").status_code == 404
    assert client.get("/v1/models/q/versions/latest/plots/latent.png").status_code == 404
