"""dataset chunks (#28): a dataset's rows as blocks of a few MB

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_chunk",
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("first_row", sa.BigInteger(), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_chunk_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "position", name=op.f("pk_dataset_chunk")),
    )
    with op.batch_alter_table("dataset_chunk", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_chunk_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dataset_chunk", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_chunk_sha256"))
    op.drop_table("dataset_chunk")
