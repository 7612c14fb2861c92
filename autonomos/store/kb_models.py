"""Tables of the knowledge base: documents, their chunks, per-tenant KB settings.

SQL is the truth: a chunk's text and its embedding (float32 bytes) live here, and the
search indexes (BM25 and FAISS in each process, or the pgvector column on Postgres) are
derived from these rows. ``kb_settings.generation`` is bumped by every write, so a
process can tell that its in-memory indexes are behind.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from autonomos.store.base import Base, JSONType, TenantOwned, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY.
ChunkId = BigInteger().with_variant(Integer(), "sqlite")


class KBDocument(TenantOwned, Base):
    """One uploaded document. ``redactions`` counts the PII replaced per label before
    indexing (empty when the tenant turned redaction off: ``pii_redacted`` false)."""

    __tablename__ = "kb_documents"
    __table_args__ = (Index("ix_kb_documents_tenant_external", "tenant_id", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(500))
    filename: Mapped[str | None] = mapped_column(String(500), default=None)
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    chars: Mapped[int] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer)
    pii_redacted: Mapped[bool] = mapped_column(default=True)
    redactions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100), default=None)


class KBChunk(TenantOwned, Base):
    """A passage of a document as indexed: ``text`` (after redaction), its character
    range in the document's text, and its unit-norm embedding as float32 bytes."""

    __tablename__ = "kb_chunks"

    id: Mapped[int] = mapped_column(ChunkId, primary_key=True, autoincrement=True)
    document_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("kb_documents.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    start_char: Mapped[int] = mapped_column(Integer)
    end_char: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class KBSettings(TenantOwned, Base):
    """Per-tenant knowledge-base settings and the change counter of its indexes."""

    __tablename__ = "kb_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    pii_redaction: Mapped[bool] = mapped_column(default=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(100), default=None)
