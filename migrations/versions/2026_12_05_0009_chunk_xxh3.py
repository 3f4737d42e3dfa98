"""chunk checksums (#28): a chunk's xxh3-64, checked on every read in place of its sha256

Chunks recorded before it have none and are checked against their sha256, as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("dataset_chunk", "batch_chunk")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("xxh3", sa.String(length=16), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("xxh3")
