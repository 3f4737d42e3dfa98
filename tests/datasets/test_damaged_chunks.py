"""A stored chunk that is damaged (fails its xxh3, or its sha256 where it was recorded
before chunks had an xxh3) or gone, found by a job: the job fails on its first attempt,
naming the chunk and the cause (no attempt would read it otherwise)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.artifacts import FolderStore
from service.datasets.tables import DatasetChunk
from tests.batch.conftest import DATASET, MODEL, world  # noqa: F401 (a fixture)
from tests.factories import job_body, npy_bytes, random_matrix, run_worker

pytestmark = pytest.mark.usefixtures("small_chunks")
DAMAGED = 2


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.batch.conftest import CHUNK_ROWS, N_FEATURES

    monkeypatch.setattr("service.datasets.chunks.CHUNK_BYTES", CHUNK_ROWS * N_FEATURES * 4)


CAUSES = {
    "corrupted": "failed its xxh3 check",
    "corrupted, recorded without an xxh3": "failed its sha256 check",
    "missing": "is missing",
}


def damage(client: TestClient, dataset: str, how: str) -> str:
    """Flip a byte of chunk DAMAGED of `dataset` in the store, or delete it; its sha256."""
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    dataset_id = client.get(f"/v1/datasets/{dataset}").json()["id"]
    with ctx.session_factory() as session:
        chunk = session.get(DatasetChunk, (dataset_id, DAMAGED))
        assert chunk is not None and chunk.xxh3 is not None
        sha = str(chunk.sha256)
        if how == "corrupted, recorded without an xxh3":  # as chunks were before 0009
            chunk.xxh3 = None
            session.commit()
    store: FolderStore = ctx.store
    path = store.path_of(sha)
    if how == "missing":
        path.unlink()
    else:
        raw = bytearray(path.read_bytes())
        raw[-1] ^= 0x01
        path.write_bytes(bytes(raw))
    return sha


def assert_failed_naming_the_chunk(client: TestClient, path: str, how: str, sha: str) -> None:
    job: dict[str, Any] = client.get(path).json()
    assert job["status"] == "failed", job
    assert job["attempt"] == 1 < job["max_attempts"], job  # a damaged chunk stays damaged
    assert f"chunk {DAMAGED} " in job["error"] and sha in job["error"], job["error"]
    assert CAUSES[how] in job["error"], job["error"]


@pytest.mark.parametrize("how", list(CAUSES))
@pytest.mark.parametrize("streamed", [False, True])
def test_training_on_a_damaged_chunk_fails_at_once_naming_it(
    client: TestClient, settings: Any, monkeypatch: pytest.MonkeyPatch, how: str, streamed: bool
) -> None:
    X = random_matrix(300, 6, seed=2)
    response = client.post(
        "/v1/datasets", files={"file": ("x.npy", npy_bytes(X))}, data={"name": "x"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["n_rows"] == 300
    sha = damage(client, "x", how)
    if streamed:  # every dataset counts as too large to hold
        monkeypatch.setattr("service.training.data.IN_MEMORY_BYTES", 0)
    job = client.post("/v1/jobs", json=job_body(dataset="x", epochs=1, code_size=2))
    assert job.status_code == 202, job.text
    assert run_worker(settings) == 1
    assert_failed_naming_the_chunk(client, f"/v1/jobs/{job.json()['id']}", how, sha)


def test_a_batch_job_on_a_damaged_chunk_fails_naming_it_and_leaves_no_output(
    client: TestClient,
    settings: Any,
    world: np.ndarray,  # noqa: F811
) -> None:
    sha = damage(client, DATASET, "corrupted")
    body = {"model": MODEL, "dataset": DATASET, "operation": "encode", "output": "codes"}
    job = client.post("/v1/batch-jobs", json=body)
    assert job.status_code == 202, job.text
    assert run_worker(settings) == 1
    path = f"/v1/batch-jobs/{job.json()['id']}"
    assert_failed_naming_the_chunk(client, path, "corrupted", sha)
    assert client.get("/v1/datasets/codes").status_code == 404


def test_an_npy_download_says_its_length(client: TestClient) -> None:
    """Content-Length up front: a download that stops part-way (a chunk that fails its
    check while it streams) is a short body to any client, not a smaller file."""
    X = random_matrix(300, 6, seed=4)
    response = client.post(
        "/v1/datasets", files={"file": ("x.npy", npy_bytes(X))}, data={"name": "x"}
    )
    assert response.status_code == 201, response.text
    download = client.get("/v1/datasets/x/data")
    assert download.status_code == 200
    assert int(download.headers["content-length"]) == len(download.content)
    np.testing.assert_array_equal(np.load(io.BytesIO(download.content)), X)
