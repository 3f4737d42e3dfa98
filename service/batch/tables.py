"""The chunks a batch job has written so far: what a resumed attempt keeps.

A row is committed right after its chunk is stored, so a worker killed mid-job leaves
exactly the chunks it finished, recorded; the next attempt starts at the first position
without a row. When the job succeeds these rows become the output dataset's chunks (and
are deleted); when it fails or is cancelled they are deleted with their blobs.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base


class BatchChunk(Base):
    __tablename__ = "batch_chunk"

    job_id: Mapped[str] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)  # the input chunk's position
    first_row: Mapped[int] = mapped_column(BigInteger)
    n_rows: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    xxh3: Mapped[str | None] = mapped_column(String(16))  # service.datasets.chunks
