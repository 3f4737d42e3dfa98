"""the blobs of uploads in progress: an upload whose API died leaves none behind

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 20:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.database import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_blob",
        sa.Column("upload_id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("touched_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("upload_id", "sha256", name=op.f("pk_upload_blob")),
    )
    with op.batch_alter_table("upload_blob", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_upload_blob_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("upload_blob", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upload_blob_sha256"))
    op.drop_table("upload_blob")
