"""A trained tiny model and a dataset of many small chunks, for the batch job tests."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from safetensors.torch import load as load_safetensors
from sqlalchemy import select

from service.batch.runner import BatchRun
from service.config import Settings
from service.context import AppContext
from service.datasets import chunks
from service.inference.backends.torch import TorchBackend
from service.registry.tables import Model, ModelVersion
from service.training import lifecycle
from service.training.schemas import JobStatus
from service.zoo.serving import load_serving_model
from tests.factories import job_body, npy_bytes, random_matrix, run_worker

N_ROWS, N_FEATURES, CODE_SIZE = 300, 6, 2
CHUNK_ROWS = 40  # 300 rows: 8 chunks, the last of 20 rows
MODEL, DATASET = "tiny", "rows"


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Uploads stored in chunks of CHUNK_ROWS rows of N_FEATURES features."""
    monkeypatch.setattr(chunks, "CHUNK_BYTES", CHUNK_ROWS * N_FEATURES * 4)
    return CHUNK_ROWS


def upload(client: TestClient, name: str, X: np.ndarray) -> dict[str, Any]:
    response = client.post("/v1/datasets", files={"file": (f"{name}.npy", npy_bytes(X))},
                           data={"name": name})  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def train_tiny(client: TestClient, settings: Settings, *, model: str = MODEL) -> None:
    body = job_body(model_name=model, dataset=DATASET, code_size=CODE_SIZE, epochs=2)
    body["spec"]["architecture"]["hidden_sizes"] = [8]
    assert client.post("/v1/jobs", json=body).status_code == 202
    assert run_worker(settings, max_jobs=1) == 1
    assert client.get(f"/v1/models/{model}/versions/1").status_code == 200


@pytest.fixture
def world(client: TestClient, settings: Settings, small_chunks: int) -> Iterator[np.ndarray]:
    """DATASET (N_ROWS x N_FEATURES, 8 chunks) and MODEL version 1 trained on it."""
    X = random_matrix(N_ROWS, N_FEATURES, seed=5)
    upload(client, DATASET, X)
    train_tiny(client, settings)
    yield X


def download(client: TestClient, dataset: str) -> np.ndarray:
    response = client.get(f"/v1/datasets/{dataset}/data")
    assert response.status_code == 200, response.text
    return np.load(io.BytesIO(response.content), allow_pickle=False)


def run_attempt(
    settings: Settings, run_class: type[BatchRun], *, record_every_s: float | None = None
) -> tuple[JobStatus | None, BatchRun]:
    """Claim the queued batch job and run one attempt of it as `run_class` (recording every
    `record_every_s`, the settings' by default): its outcome, and the attempt (what it
    stored, what it recorded)."""
    ctx = AppContext.from_settings(settings)
    try:
        owner = "test:1:attempt"
        job = lifecycle.claim_next_job(ctx.session_factory, owner=owner, host="test", pid=1)
        assert job is not None and job.kind == "batch"
        attempt = run_class(
            factory=ctx.session_factory,
            store=ctx.store,
            job=job,
            owner=owner,
            heartbeat_interval_s=0.3,
            stopping=threading.Event(),
            backend=settings.inference_backend,
            record_every_s=settings.batch_record_every_s
            if record_every_s is None
            else record_every_s,
        )
        return attempt.run(), attempt
    finally:
        ctx.close()


def in_process(settings: Settings, operation: str, X: np.ndarray) -> np.ndarray:
    """Version 1 of MODEL's `operation` on X here, by the torch backend (its first output)."""
    ctx = AppContext.from_settings(settings)
    try:
        with ctx.session_factory() as session:
            version = session.scalars(
                select(ModelVersion)
                .join(Model, Model.id == ModelVersion.model_id)
                .where(Model.name == MODEL, ModelVersion.version == 1)
            ).one()
            blob = ctx.store.get_bytes(version.artifact_sha256)
            model = load_serving_model(version.config, load_safetensors(blob)).eval()
    finally:
        ctx.close()
    return TorchBackend(model, device="cpu").run(operation, np.ascontiguousarray(X))[0]
