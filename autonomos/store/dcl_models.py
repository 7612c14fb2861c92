"""Tables of the Data Connection Layer: the versioned field mapping registry."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from autonomos.store.base import Base, TenantOwned, utcnow


class MappingRegistry(TenantOwned, Base):
    """One version of the mapping of a source field onto an ontology field.

    Every edit adds a row with ``version`` + 1 and retires the previous one, so any past
    state can be restored; the active mapping of a field is its row with status
    ``active``. Counts are per connection, never per vendor.
    """

    __tablename__ = "mapping_registry"
    __table_args__ = (
        Index("ix_mapping_registry_connection_id", "connection_id"),
        Index("ix_mapping_registry_field", "connection_id", "stream", "source_field", "version"),
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
    status: Mapped[str] = mapped_column(String(20), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    decided_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
