"""sweeps remember the API key that created them: their trials count against its quota

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 07:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sweep") as batch:
        batch.add_column(sa.Column("api_key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sweep") as batch:
        batch.drop_column("api_key_id")
