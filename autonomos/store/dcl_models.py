"""Tables of the Data Connection Layer: the versioned field mapping registry and the
materialisation state of the unified views."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from autonomos.store.base import Base, JSONType, TenantOwned, utcnow

_ACTIVE = text("status = 'active'")


class MappingRegistry(TenantOwned, Base):
    """One version of the mapping of a source field onto an ontology field.

    Every edit adds a row with ``version`` + 1 and marks the previous one ``superseded``,
    so any past state can be restored; the current state of a field is its newest row and
    its active mapping is the row with status ``active``. The partial unique indexes
    guarantee, per tenant, one active row per source field and one active source field
    per (stream, entity.field) target. Counts are per connection, never per vendor.
    """

    __tablename__ = "mapping_registry"
    __table_args__ = (
        Index("ix_mapping_registry_connection_id", "connection_id"),
        Index("ix_mapping_registry_field", "connection_id", "stream", "source_field", "version"),
        Index(
            "uq_mapping_registry_version",
            "tenant_id",
            "connection_id",
            "stream",
            "source_field",
            "version",
            unique=True,
        ),
        Index(
            "uq_mapping_registry_active_field",
            "tenant_id",
            "connection_id",
            "stream",
            "source_field",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
        Index(
            "uq_mapping_registry_active_target",
            "tenant_id",
            "connection_id",
            "stream",
            "entity",
            "field",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("connections.id", ondelete="CASCADE")
    )
    stream: Mapped[str] = mapped_column(String(200))
    source_field: Mapped[str] = mapped_column(String(500))
    entity: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(100))
    transform: Mapped[str | None] = mapped_column(Text, default=None)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    status: Mapped[str] = mapped_column(String(20), default="active")  # dcl.registry.MappingStatus
    version: Mapped[int] = mapped_column(Integer, default=1)
    decided_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ViewMaterialization(TenantOwned, Base):
    """Last materialisation of one (connection, stream) -> entity slice of a unified view.

    A summary for the dashboard and the graph (rows, freshness, failures) readable without
    the tenant's DCL actor; the DuckDB file itself is the source of truth of what is
    materialised (its ``_dcl.slices`` table commits with the data).
    """

    __tablename__ = "view_materializations"
    __table_args__ = (UniqueConstraint("tenant_id", "connection_id", "stream", "entity"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    stream: Mapped[str] = mapped_column(String(200))
    entity: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))  # ok | failed | dropped
    mode: Mapped[str] = mapped_column(String(20))  # full | incremental | unchanged | dropped
    rows: Mapped[int] = mapped_column(Integer, default=0)
    mapping_signature: Mapped[str | None] = mapped_column(String(64), default=None)
    last_synced_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    materialized_at: Mapped[datetime] = mapped_column(default=utcnow)


class ViewRefresh(TenantOwned, Base):
    """One request to bring a connection's views up to date, and its outcome.

    Written in the same transaction as the change that needs it (a mapping edit, an
    approved or rolled-back repair, a batch-mapping run, a finished sync), so a committed
    change always has its refresh on record; then carried out after the commit. Its
    status (``dcl.refresh.RefreshStatus``) says what happened, with the reason when it
    failed: nothing reaches the views by fire-and-forget.
    """

    __tablename__ = "view_refreshes"
    __table_args__ = (Index("ix_view_refreshes_connection", "connection_id", "requested_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("connections.id", ondelete="CASCADE")
    )
    streams: Mapped[list[str] | None] = mapped_column(JSONType, default=None)  # None: all
    full: Mapped[bool] = mapped_column(default=False)  # rebuild from every landed batch
    reason: Mapped[str] = mapped_column(String(40))  # dcl.refresh.RefreshReason
    subject_id: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
