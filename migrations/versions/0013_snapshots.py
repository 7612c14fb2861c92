"""Complete snapshots: landed batches record their part and generation, and when a
committed snapshot superseded them.

Revision ID: 0013_snapshots
Revises: 0012_view_refreshes
Create Date: 2026-12-03 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from autonomos.store.base import UTCDateTime

revision: str = "0013_snapshots"
down_revision: str | None = "0012_view_refreshes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("landed_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("part", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("generation", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("superseded_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("superseded_by", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("landed_batches", schema=None) as batch_op:
        batch_op.drop_column("superseded_by")
        batch_op.drop_column("superseded_at")
        batch_op.drop_column("generation")
        batch_op.drop_column("part")
