"""Tables of the repair agent: proposals and their decisions, per-tenant Safe Mode
settings, and the drift events the agent has handled."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from autonomos.store.base import Base, JSONType, TenantOwned, utcnow


class RepairProposalRow(TenantOwned, Base):
    """One proposed repair of a connection's mappings after a drift, and its fate.

    ``status``: pending -> applied | rejected | superseded; applied -> rolled_back.
    ``applied`` lists the registry steps taken (with the mapping each replaced), which is
    what a rollback undoes.
    """

    __tablename__ = "repair_proposals"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        Index("ix_repair_proposals_connection_status", "connection_id", "status"),
        Index("ix_repair_proposals_status_created", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("connections.id", ondelete="CASCADE")
    )
    stream: Mapped[str] = mapped_column(String(200))
    drift_event_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("drift_events.id", ondelete="SET NULL"), default=None
    )
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    source_field: Mapped[str] = mapped_column(String(500))
    new_source_field: Mapped[str | None] = mapped_column(String(500), default=None)
    target: Mapped[str | None] = mapped_column(String(201), default=None)  # entity.field
    transform: Mapped[str | None] = mapped_column(Text, default=None)
    confidence: Mapped[float] = mapped_column(Float)
    destructive: Mapped[bool] = mapped_column(default=False)
    auto_applied: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    old_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    new_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    base_version: Mapped[int | None] = mapped_column(Integer, default=None)
    applied: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    dedupe_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(100), default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)


class RepairSettings(TenantOwned, Base):
    """A tenant's Safe Mode: repairs apply on their own only at or above ``threshold``
    confidence, only if non-destructive, and only while ``auto_apply`` is on."""

    __tablename__ = "repair_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    auto_apply: Mapped[bool] = mapped_column(default=True)
    threshold: Mapped[float] = mapped_column(Float)  # the default: Settings.repair_threshold
    notify: Mapped[bool] = mapped_column(default=True)  # Slack, when a webhook is configured
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(100), default=None)


class RepairRun(TenantOwned, Base):
    """A drift event the repair agent has handled (so a replay does nothing twice)."""

    __tablename__ = "repair_runs"

    drift_event_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("drift_events.id", ondelete="CASCADE"), primary_key=True
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    proposals: Mapped[int] = mapped_column(Integer, default=0)
    applied: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    handled_at: Mapped[datetime] = mapped_column(default=utcnow)
