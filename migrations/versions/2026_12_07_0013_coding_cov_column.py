"""a version's coding covariance in a column of its own, read only where asked for

Its code_size² numbers (50 MB of JSON at a code size of 2,048) were in `metrics`, which
every read of the version and every page of its model's versions parsed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

VERSIONS = sa.table(
    "model_version",
    sa.column("id", sa.Integer),
    sa.column("metrics", sa.JSON),
    sa.column("coding_cov", sa.JSON),
)


def upgrade() -> None:
    with op.batch_alter_table("model_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coding_cov", sa.JSON(), nullable=True))
    bind = op.get_bind()
    for (row_id,) in bind.execute(sa.select(VERSIONS.c.id)).all():  # a row at a time
        metrics = bind.execute(
            sa.select(VERSIONS.c.metrics).where(VERSIONS.c.id == row_id)
        ).scalar_one()
        if isinstance(metrics, dict) and "coding_cov" in metrics:
            cov = metrics.pop("coding_cov")
            bind.execute(
                VERSIONS.update()
                .where(VERSIONS.c.id == row_id)
                .values(metrics=metrics, coding_cov=cov)
            )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(VERSIONS.c.id).where(VERSIONS.c.coding_cov.is_not(None))).all()
    for (row_id,) in rows:
        metrics, cov = bind.execute(
            sa.select(VERSIONS.c.metrics, VERSIONS.c.coding_cov).where(VERSIONS.c.id == row_id)
        ).one()
        if cov is not None:
            bind.execute(
                VERSIONS.update()
                .where(VERSIONS.c.id == row_id)
                .values(metrics={**metrics, "coding_cov": cov})
            )
    with op.batch_alter_table("model_version", schema=None) as batch_op:
        batch_op.drop_column("coding_cov")
