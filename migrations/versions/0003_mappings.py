"""DCL mapping registry (versioned source field -> ontology field mappings).

Revision ID: 0003_mappings
Revises: 0002_aam
Create Date: 2026-11-25 12:16:35.163834
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from autonomos.store import rls
from autonomos.store.base import UTCDateTime

revision: str = "0003_mappings"
down_revision: str | None = "0002_aam"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mapping_registry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("source_field", sa.String(length=500), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("transform", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_mapping_registry_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_registry")),
    )
    with op.batch_alter_table("mapping_registry", schema=None) as batch_op:
        batch_op.create_index("ix_mapping_registry_connection_id", ["connection_id"], unique=False)
        batch_op.create_index(
            "ix_mapping_registry_field",
            ["connection_id", "stream", "source_field", "version"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_mapping_registry_tenant_id"), ["tenant_id"], unique=False
        )
    rls.enable("mapping_registry")


def downgrade() -> None:
    rls.disable("mapping_registry")
    with op.batch_alter_table("mapping_registry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mapping_registry_tenant_id"))
        batch_op.drop_index("ix_mapping_registry_field")
        batch_op.drop_index("ix_mapping_registry_connection_id")

    op.drop_table("mapping_registry")
