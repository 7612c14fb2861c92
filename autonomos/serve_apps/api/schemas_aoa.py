"""Request and response models of /api/v1/aoa (agent orchestration)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from autonomos.agents.findings import Evidence
from autonomos.agents.metrics import AgentMetrics, Metrics, TenantMetrics
from autonomos.serve_apps.api.schemas import Strict


def _iso_datetime(value: Any) -> Any:
    # pydantic also reads numbers ("0.5") as Unix times; the API's times are ISO 8601 only
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}T", value):
        raise ValueError("expected an ISO 8601 time with a zone, e.g. 2026-01-01T00:00:00Z")
    return value


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]


class AgentOut(BaseModel):
    """A registered agent (a third-party agent's token is never shown again: only its
    last characters, ``token_hint``)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: str
    code: str | None
    owner: str
    description: str
    schedule: str | None
    next_run_at: datetime | None
    run_on_materialize: bool
    reads: list[str]
    params: dict[str, Any]
    enabled: bool
    token_hint: str | None
    created_at: datetime


class AgentList(BaseModel):
    agents: list[AgentOut]


class AgentCreated(AgentOut):
    token: str | None = Field(
        None,
        description="Third-party agents: the token it reports its runs with (Bearer). Shown "
        "only in this answer; the platform keeps its SHA-256.",
    )


class StartRunIn(Strict):
    """Start a run of an internal agent now."""

    params: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of the agent's parameters for this run"
    )


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    agent_id: uuid.UUID
    status: str
    trigger: str
    external_id: str | None
    inputs: dict[str, Any]
    summary: dict[str, Any]
    as_of: date | None
    findings_count: int
    severity_counts: dict[str, int]
    duration_ms: float | None
    llm_calls: int
    llm_input_tokens: int
    llm_output_tokens: int
    llm_cost_usd: float
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunSummary(BaseModel):
    """A run in a list (no analytics summary: GET the run for it)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    agent_id: uuid.UUID
    status: str
    trigger: str
    external_id: str | None
    findings_count: int
    severity_counts: dict[str, int]
    duration_ms: float | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class RunList(BaseModel):
    runs: list[RunSummary]
    total: int
    limit: int
    offset: int


class FindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    run_id: uuid.UUID
    agent_id: uuid.UUID
    kind: str
    severity: str
    title: str
    summary: str
    key: str
    metrics: dict[str, Any]
    evidence: Evidence
    created_at: datetime


class FindingList(BaseModel):
    findings: list[FindingOut]
    total: int
    limit: int
    offset: int


class MetricsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    runs: int
    by_status: dict[str, int]
    success_rate: float | None = Field(
        description="succeeded / (succeeded + failed); cancelled runs do not count"
    )
    p50_duration_ms: float | None
    p95_duration_ms: float | None
    findings: int
    findings_by_severity: dict[str, int]
    llm_calls: int
    llm_input_tokens: int
    llm_output_tokens: int
    llm_cost_usd: float
    last_run_at: datetime | None

    @classmethod
    def of(cls, m: Metrics) -> MetricsOut:
        return cls.model_validate(m)


class AgentMetricsOut(BaseModel):
    agent_id: uuid.UUID
    name: str
    kind: str
    owner: str
    metrics: MetricsOut

    @classmethod
    def of(cls, a: AgentMetrics) -> AgentMetricsOut:
        return cls(
            agent_id=a.agent_id,
            name=a.name,
            kind=a.kind,
            owner=a.owner,
            metrics=MetricsOut.of(a.metrics),
        )


class TenantMetricsOut(BaseModel):
    """xAO: every agent of the tenant, internal and third-party, and the tenant's total."""

    since: datetime
    until: datetime
    agents: list[AgentMetricsOut]
    total: MetricsOut

    @classmethod
    def of(cls, t: TenantMetrics) -> TenantMetricsOut:
        return cls(
            since=t.since,
            until=t.until,
            agents=[AgentMetricsOut.of(a) for a in t.agents],
            total=MetricsOut.of(t.total),
        )
