"""Tables of the Adaptive API Mesh: connections, sync runs, checkpoints, landed batches,
schema fingerprints, drift events, quarantined records and the event log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from autonomos.store.base import Base, JSONType, TenantOwned, utcnow


def _connection_fk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, ForeignKey("connections.id", ondelete="CASCADE"), index=True)


class Connection(TenantOwned, Base):
    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    source_type: Mapped[str] = mapped_column(String(50))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # no secrets
    secrets: Mapped[str | None] = mapped_column(Text, default=None)  # Fernet ciphertext
    status: Mapped[str] = mapped_column(String(20), default="active")
    drift_policy: Mapped[str] = mapped_column(String(20), default="propose")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncRun(TenantOwned, Base):
    __tablename__ = "sync_runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = _connection_fk()
    status: Mapped[str] = mapped_column(String(20), default="queued")
    streams: Mapped[list[str] | None] = mapped_column(JSONType, default=None)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    records_read: Mapped[int] = mapped_column(Integer, default=0)
    records_written: Mapped[int] = mapped_column(Integer, default=0)
    records_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_type: Mapped[str | None] = mapped_column(String(20), default=None)


class StreamState(TenantOwned, Base):
    """The committed checkpoint of one stream: written with the batches it acknowledges."""

    __tablename__ = "stream_states"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    stream: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    paused: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LandedBatch(TenantOwned, Base):
    """Manifest of landed Parquet files; a file not listed here never happened.

    ``part``/``generation``: the part of the stream (a source file) and the full read of
    it the batch came from, when the connector reads in complete snapshots. A committed
    snapshot that no longer names the batch's (part, generation) marks it
    ``superseded_at``/``superseded_by`` (the sync run): its rows are gone from the source,
    and the views no longer read it. The file and the row are kept (lineage, audit).
    """

    __tablename__ = "landed_batches"
    __table_args__ = (Index("ix_landed_batches_stream", "connection_id", "stream"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("connections.id", ondelete="CASCADE")
    )
    stream: Mapped[str] = mapped_column(String(200))
    sync_run_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    path: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    landed_at: Mapped[datetime] = mapped_column(default=utcnow)
    part: Mapped[str | None] = mapped_column(Text, default=None)
    generation: Mapped[str | None] = mapped_column(String(64), default=None)
    superseded_at: Mapped[datetime | None] = mapped_column(default=None)
    superseded_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)

    @classmethod
    def live(cls) -> ColumnElement[bool]:
        """The rows the views read: those no committed snapshot superseded."""
        return cls.superseded_at.is_(None)


class SchemaFingerprint(TenantOwned, Base):
    __tablename__ = "schema_fingerprints"
    __table_args__ = (Index("ix_schema_fingerprints_stream", "connection_id", "stream"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("connections.id", ondelete="CASCADE")
    )
    stream: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    schema: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(20), default="accepted")
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)


class DriftEventRow(TenantOwned, Base):
    __tablename__ = "drift_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = _connection_fk()
    stream: Mapped[str] = mapped_column(String(200))
    old_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    new_fingerprint: Mapped[str] = mapped_column(String(64))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    severity: Mapped[str] = mapped_column(String(20))
    decision: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="open")
    detected_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class QuarantinedRecord(TenantOwned, Base):
    __tablename__ = "quarantine"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = _connection_fk()
    stream: Mapped[str] = mapped_column(String(200))
    sync_run_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    field: Mapped[str | None] = mapped_column(String(200), default=None)
    reason: Mapped[str] = mapped_column(Text)
    record: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
