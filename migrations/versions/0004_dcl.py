"""DCL: materialisation state of the unified views; mapping registry uniqueness.

The mapping registry gets three unique indexes: one row per version of a source field,
and, among ``active`` rows (partial indexes, SQLite and Postgres), one per source field
and one per (stream, entity.field) target.

Revision ID: 0004_dcl
Revises: 0003_mappings
Create Date: 2026-11-25 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from autonomos.store import rls
from autonomos.store.base import UTCDateTime

revision: str = "0004_dcl"
down_revision: str | None = "0003_mappings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    with op.batch_alter_table("mapping_registry", schema=None) as batch_op:
        batch_op.create_index(
            "uq_mapping_registry_version",
            ["tenant_id", "connection_id", "stream", "source_field", "version"],
            unique=True,
        )
        batch_op.create_index(
            "uq_mapping_registry_active_field",
            ["tenant_id", "connection_id", "stream", "source_field"],
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        )
        batch_op.create_index(
            "uq_mapping_registry_active_target",
            ["tenant_id", "connection_id", "stream", "entity", "field"],
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        )
    op.create_table(
        "view_materializations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("mapping_signature", sa.String(length=64), nullable=True),
        sa.Column("last_synced_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("materialized_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_view_materializations_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_materializations")),
        sa.UniqueConstraint(
            "tenant_id",
            "connection_id",
            "stream",
            "entity",
            name=op.f("uq_view_materializations_tenant_id_connection_id_stream_entity"),
        ),
    )
    with op.batch_alter_table("view_materializations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_view_materializations_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_view_materializations_tenant_id"), ["tenant_id"], unique=False
        )
    rls.enable("view_materializations")


def downgrade() -> None:
    rls.disable("view_materializations")
    with op.batch_alter_table("view_materializations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_view_materializations_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_view_materializations_connection_id"))
    op.drop_table("view_materializations")
    with op.batch_alter_table("mapping_registry", schema=None) as batch_op:
        batch_op.drop_index("uq_mapping_registry_active_target")
        batch_op.drop_index("uq_mapping_registry_active_field")
        batch_op.drop_index("uq_mapping_registry_version")
