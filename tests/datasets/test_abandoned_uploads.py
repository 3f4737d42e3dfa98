"""An upload records each blob before it stores it, so that one whose process died midway
(its API SIGKILLed: tests/fault/test_upload_kill.py) leaves nothing once the workers' sweep
has run; a live upload's blobs and blobs a dataset shares stay."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update
from sqlalchemy.orm import sessionmaker

from service.artifacts import FolderStore, StoredArtifact
from service.context import AppContext
from service.database import utcnow
from service.datasets import service
from service.datasets.parsing import StreamedData
from service.datasets.tables import UploadBlob
from tests.factories import npy_bytes, random_matrix


def blob_names(store: FolderStore) -> set[str]:
    return {p.name for p in (store.root / "sha256").rglob("*") if p.is_file()}


def recorded(ctx: AppContext) -> set[tuple[str, str]]:
    with ctx.session_factory() as session:
        return {(r.upload_id, r.sha256) for r in session.scalars(select(UploadBlob))}


class WatchedStore(FolderStore):
    """A real folder store that notes, as each blob is about to appear under its name,
    whether an upload has it on record."""

    def __init__(self, root: Path, ctx: AppContext) -> None:
        super().__init__(root)
        self.ctx = ctx
        self.putting = False
        self.on_record_at_publish: list[bool] = []

    def put_chunks(self, chunks: Iterable[bytes], **kwargs: Any) -> StoredArtifact:
        self.putting = True
        try:
            return super().put_chunks(chunks, **kwargs)
        finally:
            self.putting = False

    def path_of(self, sha256: str) -> Path:
        if self.putting:  # the name the temporary file is about to be renamed to
            self.on_record_at_publish.append(any(s == sha256 for _, s in recorded(self.ctx)))
        return super().path_of(sha256)


def streamed(X: np.ndarray, y: np.ndarray | None = None) -> StreamedData:
    return StreamedData(
        n_rows=len(X),
        n_features=X.shape[1],
        blocks=lambda: iter([X[i : i + 1000] for i in range(0, len(X), 1000)]),
        feature_names=[f"f{i}" for i in range(X.shape[1])],
        y=y,
        label_names=None,
    )


def test_each_blob_is_on_record_before_it_is_stored_and_the_commit_clears_the_records(
    ctx: AppContext, tmp_path: Path
) -> None:
    store = WatchedStore(tmp_path / "store", ctx)
    X = random_matrix(5000, 300)  # 6 MB: two chunks
    y = np.arange(5000) % 3
    with ctx.session_factory() as session:
        service.create_dataset(
            session=session,
            store=store,
            name="watched",
            parsed=streamed(X, y),
            source_format="npy",
            image_shape=None,
        )
    assert len(store.on_record_at_publish) >= 3  # two chunks and the labels
    assert all(store.on_record_at_publish), store.on_record_at_publish
    assert recorded(ctx) == set()


def age(ctx: AppContext, upload: str, seconds: float) -> None:
    with ctx.session_factory() as session:
        session.execute(
            update(UploadBlob)
            .where(UploadBlob.upload_id == upload)
            .values(touched_at=utcnow() - timedelta(seconds=seconds))
        )
        session.commit()


def half_upload(ctx: AppContext, upload: str, blobs: list[bytes]) -> list[str]:
    """What a process killed midway leaves: records, and the blobs it got to store."""
    names = []
    with ctx.session_factory() as session:
        for data in blobs:
            service._record_upload_blob(session, upload, hashlib.sha256(data).hexdigest())
            names.append(ctx.store.put_bytes(data).sha256)
    return names


def test_the_sweep_removes_an_abandoned_uploads_blobs_and_keeps_the_rest(
    ctx: AppContext, client: TestClient
) -> None:
    shared = npy_bytes(random_matrix(20, 3, seed=1))
    client.post(
        "/v1/datasets", files={"file": ("s.npy", shared, "application/x-npy")}, data={"name": "s"}
    ).raise_for_status()
    with ctx.session_factory() as session:
        (dataset,) = [d for d in session.scalars(select(service.Dataset)) if d.name == "s"]
        (shared_chunk,) = session.scalars(
            select(service.DatasetChunk.sha256).where(service.DatasetChunk.dataset_id == dataset.id)
        ).all()
    before = blob_names(ctx.store)  # type: ignore[arg-type]
    shared_chunk_bytes = ctx.store.get_bytes(shared_chunk)

    dead = half_upload(
        ctx, "dead", [b"\x93NUMPY dead one", b"\x93NUMPY dead two", shared_chunk_bytes]
    )
    live = half_upload(ctx, "live", [b"\x93NUMPY live one", b"\x93NUMPY dead two"])
    age(ctx, "dead", 120)
    age(ctx, "live", 5)

    swept = service.sweep_abandoned_uploads(ctx.session_factory, ctx.store, stale_after_s=60)

    assert swept == ["dead"]
    left = blob_names(ctx.store)  # type: ignore[arg-type]
    assert dead[0] not in left  # the dead upload's own blob is gone
    assert dead[1] in left  # the live upload stores the same bytes: kept
    assert shared_chunk in left  # a dataset's chunk: kept
    assert left == before | set(live)
    assert {u for u, _ in recorded(ctx)} == {"live"}
    downloaded = client.get("/v1/datasets/s/data")
    assert downloaded.status_code == 200 and downloaded.content == shared

    age(ctx, "live", 120)  # that upload died too
    assert service.sweep_abandoned_uploads(ctx.session_factory, ctx.store, stale_after_s=60) == [
        "live"
    ]
    assert blob_names(ctx.store) == before  # type: ignore[arg-type]
    assert recorded(ctx) == set()


def test_a_clean_up_that_failed_leaves_records_the_sweep_finishes(
    ctx: AppContext, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed upload whose removal failed too (the store away for a moment): its chunks
    stay on record, and the sweep removes them later."""
    before = blob_names(ctx.store)  # type: ignore[arg-type]
    real_drop = service._drop_upload

    def store_gone(*args: Any, **kwargs: Any) -> None:
        raise OSError("the store went away")

    monkeypatch.setattr(service, "_drop_upload", store_gone)
    X = random_matrix(20_000, 100)  # 8 MB: chunks stored before the bad row
    X[-1, 0] = np.nan
    response = client.post(
        "/v1/datasets",
        files={"file": ("n.npy", npy_bytes(X), "application/x-npy")},
        data={"name": "n"},
    )
    assert response.status_code == 422, response.text
    assert blob_names(ctx.store) > before  # type: ignore[arg-type]
    assert recorded(ctx)

    monkeypatch.setattr(service, "_drop_upload", real_drop)
    assert (
        len(service.sweep_abandoned_uploads(ctx.session_factory, ctx.store, stale_after_s=0)) == 1
    )
    assert blob_names(ctx.store) == before  # type: ignore[arg-type]
    assert recorded(ctx) == set()


def test_a_blob_the_store_cannot_remove_now_stays_on_record_and_the_worker_goes_on(
    ctx: AppContext, settings: Any
) -> None:
    """The store refuses a deletion (here its path is a folder; on S3, an outage): that
    upload stays on record for the next pass, the others go, and the worker loop that ran
    the sweep does not end."""
    from service.executors.local import worker_loop

    stuck, gone = (
        half_upload(ctx, "stuck", [b"\x93NUMPY stuck"]),
        half_upload(ctx, "gone", [b"\x93NUMPY gone"]),
    )
    age(ctx, "stuck", 3600)
    age(ctx, "gone", 3600)
    blocked = ctx.store.path_of(stuck[0])  # type: ignore[attr-defined]
    blocked.unlink()
    (blocked / "in-the-way").mkdir(parents=True)

    stopping = threading.Event()
    threading.Timer(1.5, stopping.set).start()
    worker_loop(settings, stopping=stopping, max_jobs=1)  # returns: the sweep did not raise

    assert {u for u, _ in recorded(ctx)} == {"stuck"}
    assert gone[0] not in blob_names(ctx.store)  # type: ignore[arg-type]
    (blocked / "in-the-way").rmdir()
    blocked.rmdir()
    assert service.sweep_abandoned_uploads(ctx.session_factory, ctx.store, stale_after_s=60) == [
        "stuck"
    ]
    assert recorded(ctx) == set()


def shared_dataset(ctx: AppContext, client: TestClient) -> tuple[set[str], str]:
    """(the store's blobs before, the chunk) of a dataset whose chunk a dead upload shares."""
    before = blob_names(ctx.store)  # type: ignore[arg-type]
    data = npy_bytes(random_matrix(20, 3, seed=7))
    files = {"file": ("d.npy", data, "application/x-npy")}
    client.post("/v1/datasets", files=files, data={"name": "d"}).raise_for_status()
    with ctx.session_factory() as session:
        (dataset,) = [d for d in session.scalars(select(service.Dataset)) if d.name == "d"]
        (chunk,) = session.scalars(
            select(service.DatasetChunk.sha256).where(service.DatasetChunk.dataset_id == dataset.id)
        ).all()
        service._record_upload_blob(session, "dead", chunk)
    age(ctx, "dead", 3600)
    return before, chunk


def test_a_dataset_deleted_before_the_sweep_leaves_the_chunk_to_it(
    ctx: AppContext, client: TestClient
) -> None:
    before, chunk = shared_dataset(ctx, client)
    assert client.delete("/v1/datasets/d").status_code == 204
    assert chunk in blob_names(ctx.store)  # type: ignore[arg-type]  # the upload's record
    assert service.sweep_abandoned_uploads(ctx.session_factory, ctx.store, stale_after_s=60)
    assert blob_names(ctx.store) == before  # type: ignore[arg-type]


def test_a_dataset_deleted_while_the_sweep_runs_leaves_no_chunk(
    ctx: AppContext, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep checks the chunk and keeps it (the dataset refers to it); right after that
    transaction the dataset is deleted. The sweep dropped the upload's record of the chunk
    in the transaction of its check, so the deletion finds no claim left and removes it
    (each side keeping it for the other left it for good)."""
    before, chunk = shared_dataset(ctx, client)
    real = service._dataset_blob_in_use
    checked: list[bool] = []

    def in_use(session: Any, sha: str) -> bool:
        used = real(session, sha)
        if sha == chunk and not checked:
            checked.append(used)
        return used

    monkeypatch.setattr(service, "_dataset_blob_in_use", in_use)
    factory = sessionmaker(ctx.engine, expire_on_commit=False)
    deleted: list[int] = []

    @event.listens_for(factory, "after_transaction_end")
    def then_the_dataset_is_deleted(session: Any, transaction: Any) -> None:
        if checked and not deleted and transaction.parent is None:
            deleted.append(client.delete("/v1/datasets/d").status_code)

    assert service.sweep_abandoned_uploads(factory, ctx.store, stale_after_s=60) == ["dead"]
    assert checked == [True] and deleted == [204]
    assert blob_names(ctx.store) == before  # type: ignore[arg-type]
    assert recorded(ctx) == set()
