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
from service.inference.runtime.engine import BackendSetting
from service.registry.tables import ModelVersion
from service.training.schemas import JobStatus
from service.zoo.serving import ServingModel
from tests.batch.conftest import DATASET, MODEL, download, in_process, run_attempt
from tests.batch.test_batch_resume import STOP_AFTER, stopped_attempt
from tests.factories import run_worker


class Seen(BatchRun):
    """A batch job's attempt, the backend it loaded kept."""

    def load_backend(
        self, model: ServingModel, version: ModelVersion, setting: BackendSetting
    ) -> Backend:
        self.backend = super().load_backend(model, version, setting)
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


def test_the_worker_loop_passes_the_setting_to_batch_jobs(
    client: TestClient,
    settings: Settings,
    world: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """torch: not what auto picks on a CPU."""
    monkeypatch.setattr(runner, "_device", lambda: "cpu")
    caplog.set_level(logging.INFO, logger="service.batch.runner")
    job_id = submit(client, "encode")
    assert run_worker(settings.model_copy(update={"inference_backend": "torch"})) == 1
    job = client.get(f"/v1/batch-jobs/{job_id}").json()
    assert job["status"] == "succeeded" and job["progress"]["runtime"] == "torch"
    assert any(
        f"batch job {job_id}" in r.getMessage() and "runs on torch (cpu)" in r.getMessage()
        for r in caplog.records
    )


def test_a_resumed_job_keeps_the_runtime_that_computed_its_recorded_chunks(
    client: TestClient, settings: Settings, world: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped after STOP_AFTER chunks on ONNX Runtime, resumed by a worker set to torch: the
    rest on ONNX Runtime too, and the output is the bytes an uninterrupted job writes (the two
    runtimes' scores differ in the last bits)."""
    monkeypatch.setattr(runner, "_device", lambda: "cpu")
    job_id = submit(client, "score", output="resumed")
    assert stopped_attempt(settings) == JobStatus.QUEUED
    halfway = client.get(f"/v1/batch-jobs/{job_id}").json()["progress"]
    assert (halfway["chunks_done"], halfway["runtime"]) == (STOP_AFTER, "onnxruntime")
    assert run_worker(settings.model_copy(update={"inference_backend": "torch"})) == 1
    done = client.get(f"/v1/batch-jobs/{job_id}").json()
    assert done["status"] == "succeeded" and done["progress"]["runtime"] == "onnxruntime"
    submit(client, "score", output="whole")
    assert run_worker(settings) == 1
    np.testing.assert_array_equal(download(client, "resumed"), download(client, "whole"))
    submit(client, "score", output="on-torch")
    assert run_worker(settings.model_copy(update={"inference_backend": "torch"})) == 1
    assert not np.array_equal(download(client, "on-torch"), download(client, "whole"))
