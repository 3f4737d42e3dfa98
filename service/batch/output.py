"""A batch job's output dataset: its chunks recorded one by one as they are stored, then
made a dataset in one transaction when the last is written, or dropped with their blobs.

Chunk i of the output holds the outputs of chunk i of the input (the same rows), so a
resumed attempt knows from the recorded positions where to go on, and the output keeps the
layout of an upload: every chunk but the last holds the same number of rows.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.artifacts import ArtifactStore
from service.batch.tables import BatchChunk
from service.blob_guard import ensure_blob
from service.database import utcnow
from service.datasets.chunks import FeatureMoments, npy_header, npy_view
from service.datasets.tables import Dataset, DatasetChunk
from service.registry.tables import Model, ModelVersion
from service.training.lifecycle import immediate_session
from service.training.service import add_event
from service.training.tables import Job
from service.zoo.profile import DataProfile, ProfileAccumulator
from service.zoo.serving import ServingModel


def output_width(model: ServingModel, operation: str) -> int:
    ae = model.autoencoder
    return {"encode": ae.code_size, "reconstruct": ae.n_features, "score": 1}[operation]


def feature_names(operation: str, dataset: Dataset, width: int) -> list[str]:
    """A reconstruction keeps the input's names; codings are code_0...; a score `score`."""
    if operation == "reconstruct":
        return list(dataset.feature_names)
    if operation == "score":
        return ["score"]
    return [f"code_{i}" for i in range(width)]


@dataclass(frozen=True)
class Rate:
    """Rows per second since an attempt began (rows an earlier attempt wrote excluded)."""

    since: float
    rows_before: int

    def rate(self, rows_seen: int) -> float:
        return round((rows_seen - self.rows_before) / max(time.monotonic() - self.since, 1e-9), 1)


@dataclass
class OutputSummary:
    """What the dataset row says of its matrix, taken chunk by chunk in order: the sha256
    of the whole matrix as one .npy, per-feature stats, the profile, the bytes stored."""

    n_rows: int
    n_features: int
    image_shape: list[int] | None = None
    size_bytes: int = 0
    rows_seen: int = 0
    _moments: FeatureMoments = field(default_factory=FeatureMoments)

    def __post_init__(self) -> None:
        self._digest = hashlib.sha256(npy_header(self.n_rows, self.n_features))
        self._profile = ProfileAccumulator(self.n_features, self.image_shape)

    def add(self, block: np.ndarray, stored_bytes: int) -> None:
        self._digest.update(np.ascontiguousarray(block, dtype=np.float32).data)
        self._moments.update(block)
        self._profile.update(block)
        self.size_bytes += stored_bytes
        self.rows_seen += len(block)

    def profile(self) -> DataProfile:
        """Equal to profile_data on the whole matrix (its sample's kurtosis is taken on the
        writer thread, while later chunks are computed, not when the job ends)."""
        return self._profile.result()

    def columns(self) -> dict[str, Any]:
        """The Dataset row's columns that describe the matrix."""
        return {
            "n_rows": self.n_rows,
            "n_features": self.n_features,
            "sha256": self._digest.hexdigest(),
            "size_bytes": self.size_bytes,
            "stats": self._moments.stats(),
            "profile": self.profile().model_dump(),
        }


def npy_load(data: bytes) -> np.ndarray:
    return npy_view(data).astype(np.float32, copy=False)


def written_chunks(session: Session, job_id: str) -> list[BatchChunk]:
    return list(
        session.scalars(
            select(BatchChunk).where(BatchChunk.job_id == job_id).order_by(BatchChunk.position)
        )
    )


@dataclass(frozen=True)
class Written:
    """An output chunk stored, not yet recorded."""

    position: int
    first_row: int
    n_rows: int
    sha256: str
    xxh3: str
    data: bytes  # its .npy bytes: put again if a deleter took a shared blob meanwhile


def record_leased(
    factory: sessionmaker[Session],
    store: ArtifactStore,
    *,
    job_id: str,
    owner: str,
    chunks: list[Written],
    progress: dict[str, Any],
) -> bool:
    """One transaction: the lease renewed (only if still `owner`'s), the chunks recorded
    with their blobs made sure of under each blob's lock (service.blob_guard), the progress
    reported. False, and nothing written, when the lease is someone else's or a position is
    recorded already."""
    with immediate_session(factory) as session:
        moved = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner)
            .values(progress=progress, heartbeat_at=utcnow())
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            session.rollback()
            return False
        session.add_all(
            BatchChunk(
                job_id=job_id,
                position=chunk.position,
                first_row=chunk.first_row,
                n_rows=chunk.n_rows,
                sha256=chunk.sha256,
                xxh3=chunk.xxh3,
            )
            for chunk in chunks
        )
        for chunk in chunks:
            ensure_blob(session, store, chunk.sha256, chunk.data)
        add_event(session, job_id, "progress", progress)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    return True


class Unfinishable(Exception):
    """The output cannot become a dataset: the job fails, saying why."""


def check_complete(session: Session, *, job_id: str, model: str, version: int, n_rows: int) -> None:
    """In the completing transaction: the version is still ready (its model row locked on
    PostgreSQL, as an archive locks it; SQLite's write lock does as much), and the chunks
    recorded hold every row in order, once. Unfinishable otherwise."""
    found = session.execute(
        select(Model.id).where(Model.name == model).with_for_update()
    ).scalar_one_or_none()
    status = found and session.scalar(
        select(ModelVersion.status).where(
            ModelVersion.model_id == found, ModelVersion.version == version
        )
    )
    if status != "ready":
        raise Unfinishable(f"version {version} of model {model!r} was deleted or archived")
    rows = 0
    for position, chunk in enumerate(written_chunks(session, job_id)):
        if chunk.position != position or chunk.first_row != rows:
            raise Unfinishable(f"the recorded output chunks skip position {position}")
        rows += chunk.n_rows
    if rows != n_rows:
        raise Unfinishable(f"the recorded output chunks hold {rows} rows of the dataset's {n_rows}")


def make_dataset(
    session: Session,
    *,
    job_id: str,
    name: str,
    summary: OutputSummary,
    feature_names: list[str],
    image_shape: list[int] | None,
    source: Dataset,
) -> Dataset:
    """In the caller's transaction (not committed): the output dataset, its chunks moved
    from the job's records. The input's labels go with it (the same rows, in order)."""
    chunks = written_chunks(session, job_id)
    dataset = Dataset(
        id=uuid.uuid4().hex,
        name=name,
        source_format="batch",
        image_shape=image_shape,
        feature_names=feature_names,
        label_names=source.label_names if source.labels_sha256 else None,
        labels_sha256=source.labels_sha256,
        builtin=False,
        **summary.columns(),
    )
    session.add(dataset)
    session.add_all(
        DatasetChunk(
            dataset_id=dataset.id,
            position=c.position,
            first_row=c.first_row,
            n_rows=c.n_rows,
            sha256=c.sha256,
            xxh3=c.xxh3,
        )
        for c in chunks
    )
    session.execute(delete(BatchChunk).where(BatchChunk.job_id == job_id))
    return dataset


def drop_written(
    session: Session, store: ArtifactStore, job_id: str, *, unrecorded: list[str] | None = None
) -> None:
    """The job will not complete: its recorded chunks go, and their blobs and those of the
    chunks it stored but did not record, where no dataset (or other batch job) refers to
    them."""
    from service.datasets.service import drop_unreferenced

    session.commit()
    query = select(BatchChunk.sha256).where(BatchChunk.job_id == job_id)
    shas: list[str | None] = list(session.scalars(query))
    if shas:
        session.execute(delete(BatchChunk).where(BatchChunk.job_id == job_id))
        session.commit()
    if shas or unrecorded:
        drop_unreferenced(session, store, shas + list(unrecorded or ()))
