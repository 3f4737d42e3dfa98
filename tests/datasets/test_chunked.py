"""Datasets stored in chunks (#28): written and read a chunk at a time on a folder and on
an S3 store, the one-blob layout of older datasets still read, nothing left behind."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xxhash
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.artifacts import ArtifactCorrupted, ArtifactStore, FolderStore
from service.datasets import chunks
from service.datasets.chunks import ChunkedRows, ChunkRef, ChunkWriter, npy_bytes
from service.datasets.service import open_rows
from service.datasets.tables import Dataset, DatasetChunk
from service.object_store import ObjectStore
from tests.datasets.test_upload_errors import assert_rejected
from tests.factories import job_body, random_matrix, run_worker, wait_for_job

SMALL_CHUNK_BYTES = 4096  # 128 rows of 8 float32 features: many chunks from a few kB


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", SMALL_CHUNK_BYTES)


@pytest.fixture(params=["folder", pytest.param("s3", marks=pytest.mark.cluster)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "folder":
        return FolderStore(tmp_path / "artifacts")
    return ObjectStore(request.getfixturevalue("s3_url"), spool_dir=tmp_path / "spool")


def _write(store: ArtifactStore, X: np.ndarray, block_rows: int) -> chunks.WrittenRows:
    writer = ChunkWriter(store, len(X), X.shape[1])
    for start in range(0, len(X), block_rows):
        writer.add(X[start : start + block_rows])
    return writer.finish()


@pytest.mark.usefixtures("small_chunks")
def test_chunks_round_trip_on_each_store(store: ArtifactStore) -> None:
    X = random_matrix(1000, 8, seed=1)
    written = _write(store, X, block_rows=77)  # blocks that straddle chunk boundaries
    assert [c.n_rows for c in written.chunks] == [128] * 7 + [104]
    assert written.sha256 == hashlib.sha256(npy_bytes(X)).hexdigest()  # as one .npy blob
    np.testing.assert_allclose(written.stats["mean"], X.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(written.stats["std"], X.astype(np.float64).std(axis=0))
    rows = ChunkedRows(store, written.chunks, 8)
    np.testing.assert_array_equal(rows.read_all(), X)
    picked = np.array([0, 127, 128, 500, 999])
    np.testing.assert_array_equal(rows.take(picked), X[picked])
    np.testing.assert_array_equal(rows.head(3), X[:3])
    view, copy = rows.read_chunk(1, copy=False), rows.read_chunk(1)
    np.testing.assert_array_equal(view, X[128:256])
    np.testing.assert_array_equal(copy, X[128:256])
    assert not view.flags.writeable and view.base is not None  # the bytes read, not a copy
    assert copy.flags.writeable and copy.flags.owndata


@pytest.mark.usefixtures("small_chunks")
def test_each_chunk_is_checked_on_read_against_its_own_xxh3(store: ArtifactStore) -> None:
    """The xxh3 recorded with a chunk is the one checked on read, not the sha256: a wrong
    one fails a chunk whose bytes are intact."""
    X = random_matrix(300, 8, seed=3)
    written = _write(store, X, block_rows=300)
    for ref in written.chunks:
        rows_of = X[ref.first_row : ref.first_row + ref.n_rows]
        assert ref.xxh3 == xxhash.xxh3_64_hexdigest(npy_bytes(rows_of))
    wrong = [
        dataclasses.replace(ref, xxh3="0" * 16) if i == 1 else ref
        for i, ref in enumerate(written.chunks)
    ]
    rows = ChunkedRows(store, wrong, 8)
    np.testing.assert_array_equal(rows.read_chunk(0), X[:128])
    with pytest.raises(ArtifactCorrupted, match=r"chunk 1 \(rows 128-255\): .* failed its xxh3"):
        rows.read_chunk(1)


def test_a_dataset_of_one_blob_still_reads(client: TestClient, store: ArtifactStore) -> None:
    """A dataset stored before chunks existed: `sha256` names its whole .npy, no chunk rows."""
    X = random_matrix(50, 4, seed=2)
    blob = store.put_bytes(npy_bytes(X))
    legacy = Dataset(id="legacy", name="legacy", n_rows=50, n_features=4, sha256=blob.sha256)
    factory = client.app.state.ctx.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        rows = open_rows(session=session, store=store, dataset=legacy)
    assert rows.chunks == [ChunkRef(sha256=blob.sha256, first_row=0, n_rows=50)]
    whole = rows.read_all()
    np.testing.assert_array_equal(whole, X)
    assert whole.flags.writeable  # the in-memory training path gets its own array


@pytest.mark.parametrize("layout", ["fortran", "float64"])
def test_a_blob_np_save_wrote_otherwise_reads_as_float32(store: ArtifactStore, layout: str) -> None:
    X = random_matrix(40, 3, seed=4)
    other = np.asfortranarray(X) if layout == "fortran" else X.astype(np.float64)
    blob = store.put_bytes(npy_bytes(other))
    rows = ChunkedRows(store, [ChunkRef(sha256=blob.sha256, first_row=0, n_rows=40)], 3)
    for copy in (True, False):
        chunk = rows.read_chunk(0, copy=copy)
        assert chunk.dtype == np.float32
        np.testing.assert_array_equal(chunk, X)


@pytest.mark.usefixtures("small_chunks")
def test_an_upload_is_stored_in_chunks_and_trains(
    client: TestClient, upload: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    X = random_matrix(1000, 8, seed=3)
    data = npy_bytes(X)
    response = upload("x.npy", data, name="big", sha256=hashlib.sha256(data).hexdigest())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()  # np.save's bytes, as before
    assert body["profile"]["n_rows"] == 1000
    factory = client.app.state.ctx.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        dataset = session.get(Dataset, body["id"])
        assert dataset is not None
        rows = open_rows(session=session, store=client.app.state.ctx.store, dataset=dataset)  # type: ignore[attr-defined]
    assert len(rows.chunks) == 8
    np.testing.assert_array_equal(rows.read_all(), X)
    # the worker streams it: every dataset counts as too large to hold
    monkeypatch.setattr("service.training.data.IN_MEMORY_BYTES", 0)
    job = client.post("/v1/jobs", json=job_body(dataset="big", epochs=2, code_size=2)).json()
    assert run_worker(settings) == 1
    done = wait_for_job(lambda p: client.get(p).json(), job["id"])
    assert done["status"] == "succeeded", done
    assert client.delete("/v1/datasets/big").status_code == 204
    root = settings.resolved_artifact_root / "sha256"
    left = [p for p in root.rglob("*") if p.is_file()]
    with factory() as session:
        mine = select(func.count()).where(DatasetChunk.dataset_id == body["id"])
        assert session.scalar(mine) == 0
    assert all(p.name not in {c.sha256 for c in rows.chunks} for p in left)


def test_a_truncated_npy_is_422_and_leaves_nothing(upload: Any, footprint: Any) -> None:
    before = footprint()
    data = npy_bytes(random_matrix(1000, 8))
    body = assert_rejected(upload("x.npy", data[: len(data) // 2]), 422, footprint, before)
    assert "truncated" in body["detail"]


def test_a_checksum_mismatch_is_422_and_leaves_nothing(upload: Any, footprint: Any) -> None:
    before = footprint()
    data = npy_bytes(random_matrix(100, 8))
    wrong = hashlib.sha256(b"other").hexdigest()
    body = assert_rejected(upload("x.npy", data, sha256=wrong), 422, footprint, before)
    assert body["errors"][0]["field"] == "sha256"
    assert hashlib.sha256(data).hexdigest() in body["detail"]


@pytest.mark.usefixtures("small_chunks")
def test_bad_values_in_a_late_chunk_remove_the_chunks_written(upload: Any, footprint: Any) -> None:
    before = footprint()
    X = random_matrix(1000, 8)
    X[990, 3] = np.nan  # seven chunks are stored before the eighth is refused
    body = assert_rejected(upload("x.npy", npy_bytes(X)), 422, footprint, before)
    assert body["first_bad_row"] == 990
