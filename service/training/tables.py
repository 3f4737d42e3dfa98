from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base, UTCDateTime, utcnow
from service.sweeps import tables as _sweeps  # noqa: F401  (job.sweep_id's target table)


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_claim_order", "status", "priority", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "train" (adds a model version) or "batch" (runs a version over a dataset, #28):
    # one table, so claims, leases, heartbeats, cancel, retries and events serve both
    kind: Mapped[str] = mapped_column(String(16), default="train", server_default="train")
    batch: Mapped[dict[str, Any] | None]  # a batch job's parameters (service.batch.schemas)
    model_name: Mapped[str] = mapped_column(String(128), index=True)
    dataset_id: Mapped[str | None] = mapped_column(
        ForeignKey("dataset.id", ondelete="SET NULL"), index=True
    )
    spec: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(default=0)
    attempt: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    worker_host: Mapped[str | None] = mapped_column(String(255))
    worker_pid: Mapped[int | None]
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress: Mapped[dict[str, Any] | None]
    checkpoint_uri: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    attempt_errors: Mapped[list[Any]] = mapped_column(default=list)
    model_version: Mapped[int | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    # a sweep's trial (service.sweeps); null for a job submitted on its own
    sweep_id: Mapped[str | None] = mapped_column(
        ForeignKey("sweep.id", ondelete="SET NULL"), index=True
    )
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    # the API key that submitted the job (None with auth disabled): its quota counts the job
    api_key_id: Mapped[str | None] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobEvent(Base):
    """An append-only log per job: state changes and per-epoch progress (SSE, history)."""

    __tablename__ = "job_event"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
