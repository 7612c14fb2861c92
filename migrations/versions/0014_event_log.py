"""The tenant event log, numbered: an outbox written with each change, the log with a
per-tenant ``seq``, and the counters. Replaces 0002's unnumbered ``event_log``; its rows
are carried over, numbered per tenant in the order they happened.

Revision ID: 0014_event_log
Revises: 0013_snapshots
Create Date: 2026-12-03 18:10:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from autonomos.store import rls
from autonomos.store.base import JSONType, UTCDateTime

revision: str = "0014_event_log"
down_revision: str | None = "0013_snapshots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = ("event_outbox", "event_log", "event_counters")


def _event_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("subject", JSONType, nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
    ]


def _no_force(table: str) -> None:
    """Let the migration's role (the tables' owner) read every tenant's rows."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def upgrade() -> None:
    bind = op.get_bind()
    old = sa.table(
        "event_log",
        sa.column("tenant_id", sa.Uuid()),
        sa.column("type", sa.String()),
        sa.column("connection_id", sa.Uuid()),
        sa.column("stream", sa.String()),
        sa.column("payload", JSONType),
        sa.column("at", UTCDateTime()),
        sa.column("id", sa.Uuid()),
    )
    _no_force("event_log")
    history = (
        bind.execute(sa.select(old).order_by(old.c.tenant_id, old.c.at, old.c.id)).mappings().all()
    )
    rls.disable("event_log")
    op.drop_table("event_log")

    op.create_table(
        "event_outbox",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        *_event_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
    )
    op.create_table(
        "event_log",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=True),
        *_event_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_log")),
        sa.UniqueConstraint("tenant_id", "seq", name=op.f("uq_event_log_tenant_id_seq")),
    )
    op.create_table(
        "event_counters",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_counters")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_event_counters_tenant_id")),
    )
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_tenant_id"), ["tenant_id"], unique=False)
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_log_tenant_occurred", ["tenant_id", "occurred_at"], unique=False
        )
        batch_op.create_index("ix_event_log_connection_seq", ["connection_id", "seq"], unique=False)

    new = sa.table(
        "event_log",
        sa.column("tenant_id", sa.Uuid()),
        sa.column("seq", sa.BigInteger()),
        sa.column("connection_id", sa.Uuid()),
        sa.column("type", sa.String()),
        sa.column("occurred_at", UTCDateTime()),
        sa.column("subject", JSONType),
        sa.column("payload", JSONType),
    )
    counters = sa.table(
        "event_counters", sa.column("tenant_id", sa.Uuid()), sa.column("last_seq", sa.BigInteger())
    )
    last: dict[Any, int] = {}
    rows = []
    for r in history:
        seq = last[r["tenant_id"]] = last.get(r["tenant_id"], 0) + 1
        subject = {k: str(r[k]) for k in ("connection_id", "stream") if r[k] is not None}
        payload = dict(r["payload"] or {})
        if "run_id" in payload:
            subject["run_id"] = str(payload["run_id"])
        rows.append(
            {
                "tenant_id": r["tenant_id"],
                "seq": seq,
                "connection_id": r["connection_id"],
                "type": r["type"][:64],
                "occurred_at": _utc(r["at"]),
                "subject": subject,
                "payload": payload,
            }
        )
    for i in range(0, len(rows), 1000):
        bind.execute(new.insert(), rows[i : i + 1000])
    if last:
        bind.execute(counters.insert(), [{"tenant_id": t, "last_seq": n} for t, n in last.items()])
    for table in TABLES:
        rls.enable(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        rls.disable(table)
        op.drop_table(table)
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
    rls.enable("event_log")
