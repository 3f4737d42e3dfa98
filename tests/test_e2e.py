"""The walking skeleton against a real server: upload, train, serve, restart, still there."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import numpy as np
import pytest
from sklearn.datasets import load_digits

from service.config import Settings
from tests.factories import csv_bytes, wait_for_job
from tests.live import LiveServer, running

pytestmark = pytest.mark.slow  # a real server trained, killed and restarted


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with running(settings, stop_signal=signal.SIGTERM, workers=1) as live:
        yield live


def test_upload_train_encode_restart(server: LiveServer) -> None:
    X = np.random.default_rng(1).normal(size=(30, 5)).astype(np.float32)
    with server.client() as http:
        upload = http.post(
            "/v1/datasets",
            files={"file": ("table.csv", csv_bytes(X), "text/csv")},
            data={"name": "table"},
        )
        assert upload.status_code == 201, upload.text
        assert upload.json()["n_rows"] == 30 and upload.json()["n_features"] == 5

        job = http.post(
            "/v1/jobs",
            json={
                "model_name": "digits-ae",
                "dataset": "digits",
                "architecture": {"code_size": 8, "hidden_sizes": [32]},
                "training": {"epochs": 3},
            },
        )
        assert job.status_code == 202, job.text
        job_id = job.json()["id"]
        done = wait_for_job(lambda path: http.get(path).json(), job_id)
        assert done["status"] == "succeeded", done
        version = http.get("/v1/models/digits-ae/versions/1").json()
        assert version["version"] == 1 and version["source_job_id"] == job_id

        rows = load_digits().data[:5].tolist()
        encoded = http.post("/v1/models/digits-ae/versions/1/encode", json={"inputs": rows})
        assert encoded.status_code == 200, encoded.text
        codings = np.asarray(encoded.json()["codings"])
        assert codings.shape == (5, 8) and np.isfinite(codings).all()
        recon = http.post("/v1/models/digits-ae/versions/1/reconstruct", json={"inputs": rows})
        assert recon.status_code == 200
        errors = recon.json()["errors"]
        assert len(errors) == 5 and all(e >= 0 for e in errors)
        assert np.asarray(recon.json()["reconstructions"]).shape == (5, 64)
        job_before, version_before = http.get(f"/v1/jobs/{job_id}").json(), version

    # uvicorn re-raises the signal after a graceful shutdown, so SIGTERM ends in -15.
    assert server.stop() in (0, -15)
    assert "Application shutdown complete" in server.logs()
    server.start()
    with server.client() as http:
        assert http.get(f"/v1/jobs/{job_id}").json() == job_before
        assert http.get("/v1/models/digits-ae/versions/1").json() == version_before
        again = http.post("/v1/models/digits-ae/versions/latest/encode", json={"inputs": rows})
        assert np.allclose(np.asarray(again.json()["codings"]), codings, atol=1e-6)
        assert http.get("/v1/datasets/table").status_code == 200
