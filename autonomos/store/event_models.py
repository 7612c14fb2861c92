"""Tables of the tenant event log.

A producer adds an :class:`EventOutboxRow` in the transaction of the change it reports
(``events.log.record``). A short, separate transaction (``events.log.EventLog.flush``)
numbers the committed outbox rows of one tenant in commit order, under a lock on the
tenant's :class:`EventCounterRow`, and moves them into :class:`EventRow`. Numbering at
flush rather than at insert keeps the counter lock out of producers' transactions (a
producer never waits on another producer's open transaction) and makes ids visible in
order: an id is only ever handed out after every smaller id of the tenant committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from autonomos.store.base import Base, JSONType, TenantOwned, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY (its rowid)
AutoId = BigInteger().with_variant(Integer(), "sqlite")


class EventOutboxRow(TenantOwned, Base):
    """An event written with the change it reports, not yet numbered."""

    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    subject: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class EventRow(TenantOwned, Base):
    """One numbered event of a tenant's log: ``seq`` increases by one per event."""

    __tablename__ = "event_log"
    __table_args__ = (
        UniqueConstraint("tenant_id", "seq"),
        Index("ix_event_log_tenant_occurred", "tenant_id", "occurred_at"),
        Index("ix_event_log_connection_seq", "connection_id", "seq"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(64))
    # the subject most lists ask by (a connector's last event), as a column
    connection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    subject: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class EventCounterRow(TenantOwned, Base):
    """The last ``seq`` handed out to a tenant (kept when retention deletes old events)."""

    __tablename__ = "event_counters"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
