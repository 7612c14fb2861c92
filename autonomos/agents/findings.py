"""What an agent hands back: findings (severity, title, the numbers, where they came from)
and a run report (findings plus the analytics summary a dashboard shows).

A finding is meant to be acted on by a person (a CFO, a CRO), so it carries the numbers
behind its claim (``metrics``) and its ``evidence``: the SQL over the tenant's unified
view that reproduces those numbers (runnable as is in the SQL sandbox,
``POST /api/v1/dcl/query``) and the keys of the rows it is about. ``key`` names what the
finding is about independently of the run (e.g. ``cost_anomaly:aws/ec2:2025-12-10``), so
the same problem found again by the next run can be recognised as the same.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import date
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

MAX_EVIDENCE_ROWS = 50  # rows quoted in a finding; the query finds them all
Number = int | float | str | bool | None


class Severity(enum.StrEnum):
    INFO = "info"  # context (a forecast within its usual range)
    LOW = "low"  # worth a look
    MEDIUM = "medium"  # should be handled this week
    HIGH = "high"  # act now: money is being lost or a forecast is at risk

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def at_least(cls, minimum: Severity | str) -> list[Severity]:
        floor = cls(minimum).rank
        return [s for s in cls if s.rank >= floor]


_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}


class Bands(BaseModel):
    """Severity of a finding by the share of money at stake: ``>= high`` high,
    ``>= medium`` medium, anything found below ``medium`` low."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    medium: float = Field(ge=0, le=10)
    high: float = Field(ge=0, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if self.high < self.medium:
            raise ValueError("the high band must be at least the medium band")
        return self

    def severity(self, share: float | None) -> Severity:
        """Low when the share is unknown (no typical month, an empty pipeline)."""
        if share is None or share < self.medium:
            return Severity.LOW
        return Severity.HIGH if share >= self.high else Severity.MEDIUM


class Evidence(BaseModel):
    """Where a finding's numbers come from."""

    model_config = ConfigDict(frozen=True)

    view: str = Field(max_length=100, description="Unified view the finding was computed from")
    query: str = Field(
        max_length=20_000, description="SELECT over the view that reproduces the numbers"
    )
    row_keys: list[str] = Field(
        default_factory=list,
        max_length=MAX_EVIDENCE_ROWS,
        description="Keys (the view's primary key) of the rows the finding is about",
    )
    rows: list[dict[str, Number]] = Field(
        default_factory=list,
        max_length=MAX_EVIDENCE_ROWS,
        description=f"The first {MAX_EVIDENCE_ROWS} rows behind the finding",
    )


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str = Field(
        min_length=1,
        max_length=50,
        pattern=r"^[a-z][a-z0-9_.-]*$",
        description="What was found: cost_anomaly, slipped_deals, ...",
    )
    severity: Severity
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(max_length=4000, description="One or two sentences with the numbers")
    key: str = Field(
        min_length=1, max_length=300, description="Stable name of what the finding is about"
    )
    metrics: dict[str, Number] = Field(default_factory=dict, max_length=100)
    evidence: Evidence

    @field_validator("title", "summary", mode="before")
    @classmethod
    def _clip(cls, value: object, info: ValidationInfo) -> object:
        """Text quoting the tenant's data (a deal's name) is cut, never refused."""
        limit = 300 if info.field_name == "title" else 4000
        if isinstance(value, str) and len(value) > limit:
            return value[: limit - 1] + "…"
        return value


def finding_key(kind: str, *parts: object) -> str:
    """``kind:part:part``; a long key keeps its start and ends with a hash of the rest."""
    key = ":".join([kind, *(str(p) for p in parts)])
    if len(key) <= 300:
        return key
    return f"{key[:280]}~{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def money(value: float | None, currency: str) -> str:
    """``12,345.67 USD`` (no currency when the source gave none)."""
    if value is None:
        return "n/a"
    text = f"{value:,.2f}"
    return f"{text} {currency}" if currency else text


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.0%}"


class LLMUsage(BaseModel):
    """LLM calls a run made (internal agents measure them, third parties report them)."""

    model_config = ConfigDict(frozen=True)

    calls: int = Field(0, ge=0)
    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)
    cost_usd: float = Field(0.0, ge=0)


class AgentReport(BaseModel):
    """One run's result: its findings and the analytics summary (breakdowns, totals)."""

    agent: str
    as_of: date | None = None
    findings: list[Finding] = Field(default_factory=list)
    summary: dict[str, Any] = Field(default_factory=dict)
    llm: LLMUsage = Field(default_factory=LLMUsage)

    def counts(self) -> dict[str, int]:
        """Findings per severity (every severity present, zero included)."""
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out
