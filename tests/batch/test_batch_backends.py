"""Which runtime a batch job's lanes run: AESVC_INFERENCE_BACKEND as for the routes (auto: ONNX
Runtime on a CPU), only the job's operation exported, one intra-op thread a lane; a version
ONNX Runtime cannot run is computed on torch, and the log says why. Every runtime writes
what torch computes in process."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.batch import runner
from service.batch.runner import BatchRun
from service.config import Settings
from service.inference.backends import onnxruntime as ort_backend
from service.inference.backends.base import Backend
from service.inference.backends.onnxruntime import OnnxRuntimeBackend
from service.registry.tables import ModelVersion
from service.training.schemas import JobStatus
from service.zoo import ServingModel
from tests.batch.conftest import DATASET, MODEL, download, in_process, run_attempt
from tests.factories import run_worker


class Seen(BatchRun):
    """A batch job's attempt, the backend it loaded kept."""

    def load_backend(self, model: ServingModel, version: ModelVersion) -> Backend:
        self.backend = super().load_backend(model, version)
        return self.backend


def submit(client: TestClient, operation: str, output: str = "out") -> str:
    body = {"model": MODEL, "dataset": DATASET, "operation": operation, "output": output}
    response = client.post("/v1/batch-jobs", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def width(out: np.ndarray) -> np.ndarray:
    return out.reshape(len(out), -1)


@pytest.mark.parametrize(
    ("setting", "runtime", "operation"),
    [
        ("auto", "onnxruntime", "encode"),
        ("auto", "onnxruntime", "reconstruct"),
        ("auto", "onnxruntime", "score"),
        ("onnxruntime", "onnxruntime", "score"),
        ("torch", "torch", "encode"),
        ("torch", "torch", "score"),
    ],
)
def test_the_lanes_run_the_configured_runtime_and_write_what_torch_computes(
    client: TestClient,
    settings: Settings,
    world: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    setting: str,
    runtime: str,
) -> None:
    monkeypatch.setattr(runner, "_device", lambda: "cpu")  # the CPU's lanes, on a GPU host too
    submit(client, operation)
    configured = settings.model_copy(update={"inference_backend": setting})
    status, attempt = run_attempt(configured, Seen)
    assert status == JobStatus.SUCCEEDED
    assert isinstance(attempt, Seen) and attempt.backend.name == runtime
    if isinstance(attempt.backend, OnnxRuntimeBackend):  # one export, one thread a lane
        assert (attempt.backend.operations, attempt.backend.threads) == ((operation,), 1)
    got = download(client, "out")
    want = width(in_process(settings, operation, world))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_a_version_onnxruntime_cannot_run_is_computed_on_torch_and_the_log_says_why(
    client: TestClient,
    settings: Settings,
    world: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("an operator the exporter does not know")

    monkeypatch.setattr(runner, "_device", lambda: "cpu")
    monkeypatch.setattr(ort_backend, "export", refuse)
    caplog.set_level(logging.INFO)
    submit(client, "encode")
    status, attempt = run_attempt(settings, Seen)
    assert status == JobStatus.SUCCEEDED
    assert isinstance(attempt, Seen) and attempt.backend.name == "torch"
    messages = [r.getMessage() for r in caplog.records]
    assert any("runs on torch" in m and "exporter does not know" in m for m in messages)
    np.testing.assert_allclose(
        download(client, "out"), in_process(settings, "encode", world), rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("setting", ["torch", "onnxruntime"])
def test_the_worker_loop_passes_the_setting_to_batch_jobs(
    client: TestClient,
    settings: Settings,
    world: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    setting: str,
) -> None:
    monkeypatch.setattr(runner, "_device", lambda: "cpu")
    caplog.set_level(logging.INFO, logger="service.batch.runner")
    job_id = submit(client, "encode")
    assert run_worker(settings.model_copy(update={"inference_backend": setting})) == 1
    assert client.get(f"/v1/batch-jobs/{job_id}").json()["status"] == "succeeded"
    assert any(
        f"batch job {job_id}" in r.getMessage() and f"runs on {setting} (cpu)" in r.getMessage()
        for r in caplog.records
    )
