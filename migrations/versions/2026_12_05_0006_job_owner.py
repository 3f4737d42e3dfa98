"""jobs remember the API key that submitted them (#25: per-key quotas)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("api_key_id", sa.String(length=16), nullable=True))
        batch.create_index(batch.f("ix_job_api_key_id"), ["api_key_id"])


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_index(batch.f("ix_job_api_key_id"))
        batch.drop_column("api_key_id")
