"""A batch job on the Ray executor: run_job in a Ray actor runs it as BatchRun, with the
server's AESVC_INFERENCE_BACKEND (torch here: not what auto picks on a CPU), and the output
dataset equals an in-process encode of the same rows."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from tests.batch.conftest import CODE_SIZE, DATASET, MODEL, N_ROWS, download, in_process
from tests.factories import wait_for
from tests.live import LiveServer
from tests.training.test_ray_executor import _ray_pids, ray_address, ray_server

__all__ = ["ray_address", "ray_server"]  # the Ray head and server of the executor's tests
pytestmark = pytest.mark.ray
RAY_SERVER_ENV = {"AESVC_INFERENCE_BACKEND": "torch"}  # the setting reaches the actor


def test_batch_encode_runs_in_a_ray_actor(
    client: TestClient, settings: Settings, world: np.ndarray, ray_server: LiveServer
) -> None:
    """`world`: the dataset in 8 chunks and the tiny model trained on it (in process)."""
    with ray_server.client() as http:
        body = {"model": MODEL, "dataset": DATASET, "operation": "encode", "output": "rayed"}
        response = http.post("/v1/batch-jobs", json=body)
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]

        def ended() -> dict | None:  # type: ignore[type-arg]
            job = http.get(f"/v1/batch-jobs/{job_id}").json()
            return job if job["status"] in ("succeeded", "failed", "cancelled") else None

        done = wait_for(ended, timeout_s=180, interval_s=0.2)
        assert done["status"] == "succeeded", done
        assert done["progress"]["chunks_done"] == done["progress"]["chunks_total"] == 8
        assert done["progress"]["runtime"] == "torch"
        pids = _ray_pids(http, job_id)  # run by an actor, not by the API process
        assert len(pids) == 1 and pids[0] != ray_server.process.pid  # type: ignore[union-attr]

    dataset = client.get("/v1/datasets/rayed").json()
    assert (dataset["n_rows"], dataset["n_features"]) == (N_ROWS, CODE_SIZE)
    assert dataset["id"] == done["output_dataset_id"]
    codes = download(client, "rayed")
    assert codes.shape == (N_ROWS, CODE_SIZE)
    np.testing.assert_allclose(codes, in_process(settings, "encode", world), rtol=1e-4, atol=1e-5)
