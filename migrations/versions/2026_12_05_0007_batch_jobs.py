"""batch inference jobs (#28): job.kind and job.batch, and the chunks a batch job wrote

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        # server_default: the jobs already there are training jobs
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="train", nullable=False)
        )
        batch_op.add_column(sa.Column("batch", sa.JSON(), nullable=True))
    op.create_table(
        "batch_chunk",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("first_row", sa.BigInteger(), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_batch_chunk_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "position", name=op.f("pk_batch_chunk")),
    )
    with op.batch_alter_table("batch_chunk", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_chunk_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("batch_chunk", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_chunk_sha256"))
    op.drop_table("batch_chunk")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_column("batch")
        batch_op.drop_column("kind")
