"""A trained tiny model and a dataset of many small chunks, for the batch job tests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.datasets import chunks
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
