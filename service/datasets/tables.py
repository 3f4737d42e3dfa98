from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base, UTCDateTime, utcnow


class Dataset(Base):
    __tablename__ = "dataset"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    source_format: Mapped[str] = mapped_column(String(16))
    n_rows: Mapped[int]
    n_features: Mapped[int]
    image_shape: Mapped[list[Any] | None]
    feature_names: Mapped[list[Any]]
    label_names: Mapped[list[Any] | None]
    sha256: Mapped[str] = mapped_column(String(64))
    labels_sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    stats: Mapped[dict[str, Any]]
    # DataProfile's fields; None for a dataset stored before profiles were (migration 0012
    # copied them out of `stats`, whose per-feature arrays a listing must not parse)
    profile: Mapped[dict[str, Any] | None]
    builtin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetChunk(Base):
    """One block of a dataset's rows, a float32 .npy blob in the artifact store (#28).

    A dataset uploaded before chunks existed has none: its matrix is the one blob named by
    `dataset.sha256`."""

    __tablename__ = "dataset_chunk"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    first_row: Mapped[int] = mapped_column(BigInteger)
    n_rows: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    xxh3: Mapped[str | None] = mapped_column(String(16))  # checked on read (None: the sha256)


class UploadBlob(Base):
    """A blob an upload in progress has stored or is about to store, recorded before the
    put: an upload whose process died (its API SIGKILLed) leaves its chunks named here,
    and service.datasets.service.sweep_abandoned_uploads removes them once the upload has
    recorded nothing for a while. The dataset's own commit deletes its upload's rows."""

    __tablename__ = "upload_blob"

    upload_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    touched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
