"""Per-tenant telemetry of LLM and embedding calls."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from autonomos.store.base import Base, TenantOwned, utcnow


class LLMUsage(TenantOwned, Base):
    """Usage aggregated per tenant, kind (``llm`` | ``embedding``), model and UTC day.

    Rows are only ever incremented (``autonomos.models.telemetry`` upserts buffered
    deltas), so concurrent writers from several processes add up instead of overwriting.
    ``items``: texts embedded (embedding) or completions returned (llm); ``cached``: texts
    answered from the embedding cache; ``latency_ms``: the sum over calls.
    """

    __tablename__ = "llm_usage"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "day", "kind", "model"),)

    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    items: Mapped[int] = mapped_column(BigInteger, default=0)
    cached: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
