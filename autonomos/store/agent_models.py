"""Tables of agent orchestration (AOA): registered agents, their runs, their findings.

Statuses and kinds are plain strings here; their meaning and the allowed moves live in
``autonomos.agents`` (``runs.RunStatus`` and its ``transition``, ``registry.AgentKind``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
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


class AgentRow(TenantOwned, Base):
    """A registered agent. Internal agents name their ``code`` (the built-in analysis
    they run, with ``params`` as defaults); third-party agents run elsewhere and report
    their runs with a token of which only the SHA-256 is kept."""

    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # internal | third_party
    code: Mapped[str | None] = mapped_column(String(100), default=None)
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    schedule: Mapped[str | None] = mapped_column(String(100), default=None)  # cron
    run_on_materialize: Mapped[bool] = mapped_column(default=False)
    reads: Mapped[list[str]] = mapped_column(JSONType, default=list)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    token_hint: Mapped[str | None] = mapped_column(String(16), default=None)
    next_run_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AgentRunRow(TenantOwned, Base):
    """One run of an agent: what it was given, how it went, what it cost."""

    __tablename__ = "agent_runs"
    __table_args__ = (
        UniqueConstraint("agent_id", "external_id"),
        Index("ix_agent_runs_agent_created", "agent_id", "created_at"),
        Index("ix_agent_runs_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    agent_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agents.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    as_of: Mapped[date | None] = mapped_column(Date, default=None)
    findings_count: Mapped[int] = mapped_column(Integer, default=0)
    severity_counts: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    duration_ms: Mapped[float | None] = mapped_column(Float, default=None)
    llm_calls: Mapped[int] = mapped_column(Integer, default=0)
    llm_input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    llm_output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    llm_cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_transient: Mapped[bool] = mapped_column(default=False)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AgentFindingRow(TenantOwned, Base):
    """One finding of a run (see ``agents.findings.Finding``)."""

    __tablename__ = "agent_findings"
    __table_args__ = (
        Index("ix_agent_findings_tenant_created", "tenant_id", "created_at"),
        Index("ix_agent_findings_agent_created", "agent_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("agent_runs.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    key: Mapped[str] = mapped_column(String(300))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
