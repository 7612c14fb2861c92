"""Adaptive API Mesh tables: connections, sync runs, checkpoints, landed batches,
fingerprints, drift events, quarantine, event log.

Revision ID: 0002_aam
Revises: 0001_platform
Create Date: 2026-11-25 12:08:08.032458
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from autonomos.store import rls
from autonomos.store.base import JSONType, UTCDateTime

revision: str = "0002_aam"
down_revision: str | None = "0001_platform"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TENANT_OWNED = (
    "connections",
    "sync_runs",
    "stream_states",
    "landed_batches",
    "schema_fingerprints",
    "drift_events",
    "quarantine",
    "event_log",
)


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source_type", sa.String(length=50), nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("drift_policy", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_connections_tenant_id_name")),
    )
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connections_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "event_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=True),
        sa.Column("stream", sa.String(length=200), nullable=True),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_log")),
    )
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.create_index("ix_event_log_connection_at", ["connection_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_log_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "drift_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("old_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("new_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("changes", JSONType, nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("decision", JSONType, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_drift_events_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_events")),
    )
    with op.batch_alter_table("drift_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_drift_events_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_drift_events_detected_at"), ["detected_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_drift_events_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "landed_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("sync_run_id", sa.Uuid(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("landed_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_landed_batches_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_landed_batches")),
    )
    with op.batch_alter_table("landed_batches", schema=None) as batch_op:
        batch_op.create_index("ix_landed_batches_stream", ["connection_id", "stream"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_landed_batches_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("sync_run_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_quarantine_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quarantine_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quarantine_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "schema_fingerprints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("schema", JSONType, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_schema_fingerprints_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schema_fingerprints")),
    )
    with op.batch_alter_table("schema_fingerprints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_schema_fingerprints_stream", ["connection_id", "stream"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_schema_fingerprints_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "stream_states",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("state", JSONType, nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_stream_states_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "stream", name=op.f("pk_stream_states")),
    )
    with op.batch_alter_table("stream_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stream_states_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("streams", JSONType, nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("records_read", sa.Integer(), nullable=False),
        sa.Column("records_written", sa.Integer(), nullable=False),
        sa.Column("records_quarantined", sa.Integer(), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_type", sa.String(length=20), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_sync_runs_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_runs_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_runs_tenant_id"), ["tenant_id"], unique=False)

    for table in TENANT_OWNED:
        rls.enable(table)


def downgrade() -> None:
    for table in TENANT_OWNED:
        rls.disable(table)
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_sync_runs_connection_id"))

    op.drop_table("sync_runs")
    with op.batch_alter_table("stream_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stream_states_tenant_id"))

    op.drop_table("stream_states")
    with op.batch_alter_table("schema_fingerprints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schema_fingerprints_tenant_id"))
        batch_op.drop_index("ix_schema_fingerprints_stream")

    op.drop_table("schema_fingerprints")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quarantine_connection_id"))

    op.drop_table("quarantine")
    with op.batch_alter_table("landed_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_landed_batches_tenant_id"))
        batch_op.drop_index("ix_landed_batches_stream")

    op.drop_table("landed_batches")
    with op.batch_alter_table("drift_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drift_events_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_drift_events_detected_at"))
        batch_op.drop_index(batch_op.f("ix_drift_events_connection_id"))

    op.drop_table("drift_events")
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_log_tenant_id"))
        batch_op.drop_index("ix_event_log_connection_at")

    op.drop_table("event_log")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connections_tenant_id"))

    op.drop_table("connections")
