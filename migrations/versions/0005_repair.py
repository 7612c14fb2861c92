"""Repair agent: repair proposals and their decisions.

Revision ID: 0005_repair
Revises: 0004_dcl
Create Date: 2026-11-25 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from autonomos.store import rls
from autonomos.store.base import JSONType, UTCDateTime

revision: str = "0005_repair"
down_revision: str | None = "0004_dcl"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_OWNED = ("repair_proposals", "repair_settings", "repair_runs")


def upgrade() -> None:
    op.create_table(
        "repair_proposals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("drift_event_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source_field", sa.String(length=500), nullable=False),
        sa.Column("new_source_field", sa.String(length=500), nullable=True),
        sa.Column("target", sa.String(length=201), nullable=True),
        sa.Column("transform", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("destructive", sa.Boolean(), nullable=False),
        sa.Column("auto_applied", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", JSONType, nullable=False),
        sa.Column("old_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("new_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("applied", JSONType, nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_repair_proposals_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["drift_event_id"],
            ["drift_events.id"],
            name=op.f("fk_repair_proposals_drift_event_id_drift_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_proposals")),
        sa.UniqueConstraint(
            "tenant_id", "dedupe_key", name=op.f("uq_repair_proposals_tenant_id_dedupe_key")
        ),
    )
    with op.batch_alter_table("repair_proposals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_repair_proposals_connection_status", ["connection_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_repair_proposals_status_created", ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_repair_proposals_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "repair_settings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("auto_apply", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_repair_settings_tenant_id")),
    )
    with op.batch_alter_table("repair_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_repair_settings_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "repair_runs",
        sa.Column("drift_event_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("proposals", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("handled_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_repair_runs_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["drift_event_id"],
            ["drift_events.id"],
            name=op.f("fk_repair_runs_drift_event_id_drift_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("drift_event_id", name=op.f("pk_repair_runs")),
    )
    with op.batch_alter_table("repair_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_repair_runs_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_repair_runs_tenant_id"), ["tenant_id"], unique=False)

    for table in TENANT_OWNED:
        rls.enable(table)


def downgrade() -> None:
    for table in reversed(TENANT_OWNED):
        rls.disable(table)
    with op.batch_alter_table("repair_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repair_runs_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_repair_runs_connection_id"))
    op.drop_table("repair_runs")
    with op.batch_alter_table("repair_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repair_settings_tenant_id"))
    op.drop_table("repair_settings")
    with op.batch_alter_table("repair_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repair_proposals_tenant_id"))
        batch_op.drop_index("ix_repair_proposals_status_created")
        batch_op.drop_index("ix_repair_proposals_connection_status")
    op.drop_table("repair_proposals")
