from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base, UTCDateTime, utcnow


class Model(Base):
    __tablename__ = "model"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelVersion(Base):
    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model.id", ondelete="CASCADE"))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="ready")
    source_job_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    dataset_id: Mapped[str | None] = mapped_column(String(32))
    dataset_sha256: Mapped[str | None] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]]
    config: Mapped[dict[str, Any]]
    metrics: Mapped[dict[str, Any]]  # without coding_cov, which has a column of its own
    # code_size² numbers (50 MB of JSON at 2,048), read only where asked for: generate, plots
    coding_cov: Mapped[list[Any] | None] = mapped_column(deferred=True)
    history: Mapped[list[Any]] = mapped_column(default=list)
    artifact_sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    n_features: Mapped[int]
    code_size: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    service_version: Mapped[str] = mapped_column(String(64))
    torch_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def serving_metrics(self) -> dict[str, Any]:
        """The metrics with the coding covariance (read from its column now)."""
        cov = self.coding_cov
        return self.metrics if cov is None else {**self.metrics, "coding_cov": cov}


def split_coding_cov(metrics: dict[str, Any]) -> tuple[dict[str, Any], list[Any] | None]:
    """A version's metrics as its row holds them: the rest, and the covariance apart."""
    rest = {k: v for k, v in metrics.items() if k != "coding_cov"}
    return rest, metrics.get("coding_cov")


class ModelAlias(Base):
    __tablename__ = "model_alias"
    __table_args__ = (UniqueConstraint("model_id", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AliasEvent(Base):
    __tablename__ = "alias_event"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(64))
    from_version: Mapped[int | None]
    to_version: Mapped[int | None]
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelExport(Base):
    """A cached export (ONNX, TorchScript) of one stored artifact, itself a stored blob.

    Keyed by the source artifact, not by the version: versions that share weights share
    their exports, and the export goes when the last version holding the source goes.
    """

    __tablename__ = "model_export"
    __table_args__ = (UniqueConstraint("artifact_sha256", "format", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    part: Mapped[str] = mapped_column(String(16))
    export_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    torch_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
