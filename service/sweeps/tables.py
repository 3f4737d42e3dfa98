"""The sweep row: the request, the trials planned or asked so far, and how it ended.

Trials are ordinary jobs (`job.sweep_id`); the row keeps what a job does not: each trial's
number, its parameters and its metric value, the PCA baseline, and the sweep's state. All
of it lives in the database, so a sweep survives restarts of the API and the workers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from service.database import Base, UTCDateTime, utcnow


class Sweep(Base):
    __tablename__ = "sweep"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(128), index=True)
    dataset_id: Mapped[str | None] = mapped_column(
        ForeignKey("dataset.id", ondelete="SET NULL"), index=True
    )
    request: Mapped[dict[str, Any]]  # the validated SweepCreate, as JSON
    search: Mapped[str] = mapped_column(String(16))  # grid, random or tpe
    status: Mapped[str] = mapped_column(String(16), index=True)
    # [{"number", "params", "job_id", "value", "error"}]: planned (grid) or asked (Optuna)
    trials: Mapped[list[Any]] = mapped_column(default=list)
    # {"<code_size>": PCA's metric at that code size}, on the trials' own split
    baseline: Mapped[dict[str, Any]] = mapped_column(default=dict)
    promoted_version: Mapped[int | None]
    api_key_id: Mapped[str | None] = mapped_column(String(16))  # its trials are the key's jobs
    error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set by a listing (service.sweeps.service.list_sweeps): the stored JSON's length
    stored_chars: Mapped[int | None] = query_expression()
