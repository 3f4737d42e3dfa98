"""a dataset's profile in a column of its own

The profile (a few numbers) lived inside `stats`, whose per-feature arrays are megabytes of
JSON for a wide dataset: a listing's basic view read each profile by a JSON path, and the
database parsed all of `stats` to find it. Copied out for the rows already stored.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE dataset SET profile = json_extract(stats, '$.profile')")
    else:
        op.execute("UPDATE dataset SET profile = stats -> 'profile'")


def downgrade() -> None:
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_column("profile")
