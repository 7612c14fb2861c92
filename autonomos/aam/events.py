"""Envelopes the AAM publishes. Records travel as Arrow batches; these describe them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from autonomos.aam.drift import DriftEvent, PolicyDecision


def _now() -> datetime:
    return datetime.now(UTC)


class CanonicalEvent(BaseModel):
    """One landed batch of a stream: what it is, where it came from, where it lies."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    stream: str
    op: Literal["upsert", "delete"] = "upsert"
    schema_fingerprint: str
    source_cursor: dict[str, Any] | None = None
    rows: int
    path: str  # the landed Parquet file holding the batch
    sync_run_id: uuid.UUID
    emitted_at: datetime = Field(default_factory=_now)
    source_read_at: datetime


class DriftDetected(DriftEvent):
    """A stored drift event as published on the tenant's ``drift`` topic: the detector's
    :class:`~autonomos.aam.drift.DriftEvent` (so it validates as one) plus the id of its
    ``drift_events`` row, the run that found it, and what the drift policy decided."""

    event_id: uuid.UUID  # drift_events.id
    sync_run_id: uuid.UUID
    status: str  # "open" (waits for a human or the repair agent) or "applied"
    decision: PolicyDecision
