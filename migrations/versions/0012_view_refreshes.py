"""View refreshes: every request to bring a connection's views up to date, with its outcome.

Revision ID: 0012_view_refreshes
Revises: 0011_kb
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from autonomos.store import rls
from autonomos.store.base import JSONType, UTCDateTime

revision: str = "0012_view_refreshes"
down_revision: str | None = "0011_kb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "view_refreshes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("streams", JSONType, nullable=True),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", JSONType, nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_view_refreshes_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_refreshes")),
    )
    with op.batch_alter_table("view_refreshes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_view_refreshes_connection", ["connection_id", "requested_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_view_refreshes_tenant_id"), ["tenant_id"], unique=False
        )
    rls.enable("view_refreshes")


def downgrade() -> None:
    rls.disable("view_refreshes")
    with op.batch_alter_table("view_refreshes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_view_refreshes_tenant_id"))
        batch_op.drop_index("ix_view_refreshes_connection")
    op.drop_table("view_refreshes")
