"""Datasets: store validated float32 matrices with their stats, find them, delete them."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.artifacts import ArtifactStore
from service.blob_guard import delete_unreferenced, ensure_blob
from service.datasets.parsing import ParsedData, validate_matrix
from service.datasets.schemas import DatasetPublic
from service.datasets.tables import Dataset
from service.errors import Conflict, NotFound, Unprocessable
from service.etags import check_if_match
from service.pages import PageRequest, paginate
from service.zoo.profile import profile_data

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
ACTIVE_JOB_STATES = ("queued", "running", "cancelling")


# A dataset's id: 32 lowercase hex digits (uuid4().hex). A name of that shape is refused,
# so that {id_or_name} is never ambiguous (an id is looked up as an id, anything else as a
# name).
ID_PATTERN = re.compile(r"[0-9a-f]{32}")


def check_name(name: str, field: str = "name") -> str:
    if not NAME_PATTERN.fullmatch(name):  # match's $ also matches before a final newline
        raise Unprocessable(
            field, "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if ID_PATTERN.fullmatch(name):
        raise Unprocessable(field, "32 hexadecimal digits would read as a dataset id; add a letter")
    return name


def parse_image_shape(raw: str | None) -> list[int] | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        shape = [int(part) for part in re.split(r"[,x ]+", raw.strip().strip("[]()")) if part]
    except ValueError as exc:
        raise Unprocessable("image_shape", "expected integers like '8,8,1'") from exc
    if not 2 <= len(shape) <= 3 or any(s <= 0 for s in shape):
        raise Unprocessable("image_shape", "expected 2 or 3 positive integers (H, W[, C])")
    return shape if len(shape) == 3 else [*shape, 1]


def feature_stats(X: np.ndarray) -> dict[str, list[float]]:
    X64 = X.astype(np.float64)
    return {
        "mean": X64.mean(axis=0).tolist(),
        "std": X64.std(axis=0).tolist(),
        "min": X64.min(axis=0).tolist(),
        "max": X64.max(axis=0).tolist(),
    }


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def create_dataset(
    *,
    session: Session,
    store: ArtifactStore,
    name: str,
    parsed: ParsedData,
    source_format: str,
    image_shape: list[int] | None,
    builtin: bool = False,
) -> Dataset:
    check_name(name)
    validate_matrix(parsed.X, image_shape)
    taken = session.scalar(select(Dataset.id).where(Dataset.name == name)) is not None
    session.rollback()  # end the transaction: no database lock is held while blobs are written
    if taken:
        raise Conflict(f"a dataset named {name!r} already exists", code="dataset_name_taken")
    x_bytes = _npy_bytes(parsed.X)
    y_bytes = _npy_bytes(parsed.y) if parsed.y is not None else None
    stored = store.put_bytes(x_bytes)
    try:
        labels = store.put_bytes(y_bytes) if y_bytes is not None else None
    except BaseException:  # e.g. the store filled up: the matrix must not stay behind alone
        _drop_unreferenced(session, store, [stored.sha256])
        session.rollback()
        raise
    dataset = Dataset(
        id=uuid.uuid4().hex,
        name=name,
        source_format=source_format,
        n_rows=int(parsed.X.shape[0]),
        n_features=int(parsed.X.shape[1]),
        image_shape=image_shape,
        feature_names=parsed.feature_names,
        label_names=parsed.label_names,
        sha256=stored.sha256,
        labels_sha256=labels.sha256 if labels else None,
        size_bytes=stored.size_bytes,
        stats={
            **feature_stats(parsed.X),
            "profile": profile_data(parsed.X, image_shape).model_dump(),
        },
        builtin=builtin,
    )
    session.add(dataset)
    try:
        ensure_blob(session, store, stored.sha256, x_bytes)  # see service.blob_guard
        if labels is not None and y_bytes is not None:
            ensure_blob(session, store, labels.sha256, y_bytes)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        _drop_unreferenced(session, store, [stored.sha256, labels.sha256 if labels else None])
        raise Conflict(
            f"a dataset named {name!r} already exists", code="dataset_name_taken"
        ) from exc
    return dataset


def to_public(dataset: Dataset) -> DatasetPublic:
    return DatasetPublic.model_validate(
        {
            **{c: getattr(dataset, c) for c in DatasetPublic.model_fields if hasattr(dataset, c)},
            "has_labels": dataset.labels_sha256 is not None,
            "profile": dataset.stats.get("profile"),
        }
    )


def list_datasets(*, session: Session, page: PageRequest) -> tuple[list[Dataset], int, str | None]:
    columns = {"created_at": Dataset.created_at, "name": Dataset.name}
    return paginate(
        session, select(Dataset), page, columns=columns, tie_break=Dataset.id, filters={}
    )


def get_dataset(*, session: Session, id_or_name: str) -> Dataset:
    by_id = ID_PATTERN.fullmatch(id_or_name) is not None
    dataset = session.scalars(
        select(Dataset).where(Dataset.id == id_or_name if by_id else Dataset.name == id_or_name)
    ).first()
    if dataset is None:
        raise NotFound(f"no dataset with id or name {id_or_name!r}", code="dataset_not_found")
    return dataset


def delete_dataset(
    *, session: Session, store: ArtifactStore, id_or_name: str, if_match: str | None = None
) -> None:
    from service.training.tables import Job

    dataset = get_dataset(session=session, id_or_name=id_or_name)
    check_if_match(if_match, to_public(dataset))
    busy = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.dataset_id == dataset.id, Job.status.in_(ACTIVE_JOB_STATES))
    )
    if busy:
        raise Conflict(
            f"dataset {dataset.name!r} is used by {busy} queued or running job(s)",
            code="dataset_in_use",
        )
    blobs = [dataset.sha256, dataset.labels_sha256]
    session.delete(dataset)
    session.commit()
    _drop_unreferenced(session, store, blobs)


def _drop_unreferenced(session: Session, store: ArtifactStore, blobs: list[str | None]) -> None:
    """Remove blobs no dataset refers to any more (identical uploads share one blob), each
    under its lock (service.blob_guard): an upload of the same bytes meanwhile keeps it."""
    delete_unreferenced(session, store, blobs, referenced=_dataset_blob_in_use)


def _dataset_blob_in_use(session: Session, sha: str) -> bool:
    used = session.scalar(
        select(func.count())
        .select_from(Dataset)
        .where(or_(Dataset.sha256 == sha, Dataset.labels_sha256 == sha))
    )
    return bool(used)


def load_arrays(
    *, store: ArtifactStore, sha256: str, labels_sha256: str | None
) -> tuple[np.ndarray, np.ndarray | None]:
    X = np.load(io.BytesIO(store.get_bytes(sha256)), allow_pickle=False)
    y = None
    if labels_sha256:
        y = np.load(io.BytesIO(store.get_bytes(labels_sha256)), allow_pickle=False)
    return X, y


def builtin_payloads() -> dict[str, dict[str, Any]]:
    from sklearn.datasets import load_breast_cancer, load_digits

    from service.zoo.datasets_builtin import make_pca3d

    digits = load_digits()
    cancer = load_breast_cancer()
    return {
        "digits": {
            "parsed": ParsedData(
                X=digits.data.astype(np.float32),
                y=digits.target.astype(np.int64),
                feature_names=[f"pixel_{i // 8}_{i % 8}" for i in range(64)],
                label_names=[str(i) for i in range(10)],
            ),
            "image_shape": [8, 8, 1],
        },
        "pca3d": {
            "parsed": ParsedData(
                X=make_pca3d(), y=None, feature_names=["x1", "x2", "x3"], label_names=None
            ),
            "image_shape": None,
        },
        "breast_cancer": {
            "parsed": ParsedData(
                X=cancer.data.astype(np.float32),
                y=cancer.target.astype(np.int64),
                feature_names=[str(n) for n in cancer.feature_names],
                label_names=[str(n) for n in cancer.target_names],
            ),
            "image_shape": None,
        },
    }


def register_builtins(*, session: Session, store: ArtifactStore) -> None:
    """Idempotent: a name that exists is left alone, also when two processes race."""
    existing = set(session.scalars(select(Dataset.name)).all())
    for name, payload in builtin_payloads().items():
        if name in existing:
            continue
        try:
            create_dataset(
                session=session,
                store=store,
                name=name,
                parsed=payload["parsed"],
                source_format="builtin",
                image_shape=payload["image_shape"],
                builtin=True,
            )
        except Conflict:
            continue
