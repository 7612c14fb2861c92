"""Request and response models of /api/v1/repair."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from autonomos.serve_apps.api.schemas import Strict
from autonomos.serve_apps.api.schemas_dcl import RefreshOut

Note = Field(None, max_length=2_000, description="Why; kept with the decision and audited.")


class ProposalSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    connection_id: uuid.UUID
    stream: str
    drift_event_id: uuid.UUID | None
    kind: str
    status: str
    source_field: str
    new_source_field: str | None
    target: str | None
    transform: str | None
    confidence: float
    destructive: bool
    auto_applied: bool
    reason: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


class ProposalOut(ProposalSummary):
    """A proposal with its evidence (signals, samples, alternatives, fingerprints) and,
    once applied, the registry steps a rollback would undo."""

    evidence: dict[str, Any]
    old_fingerprint: str | None
    new_fingerprint: str | None
    base_version: int | None
    applied: list[dict[str, Any]]
    decision_note: str | None
    refresh: RefreshOut | None = Field(
        None, description="After a decision that changed mappings: the view refresh it ran."
    )


class ProposalList(BaseModel):
    proposals: list[ProposalSummary]
    total: int
    limit: int
    offset: int


class DecisionIn(Strict):
    note: str | None = Note


class EditIn(Strict):
    """Edit-and-approve: any of these replaces the proposal's own choice."""

    target: str | None = Field(
        None, min_length=3, max_length=201, description="Another ontology target, entity.field."
    )
    transform: str | None = Field(
        None,
        max_length=500,
        description="Another transform (the DCL catalogue, e.g. `not`, `trim|lower`); "
        "empty removes it.",
    )
    new_source_field: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Remaps / removed fields: the source path the mapping moves to.",
    )
    replace_target: StrictBool = Field(
        False, description="If another field feeds the target now, retire that mapping."
    )
    note: str | None = Note


class SettingsIn(Strict):
    threshold: float | None = Field(
        None, gt=0, le=1, description="Auto-apply repairs at or above this confidence."
    )
    auto_apply: StrictBool | None = Field(None, description="Off: every repair waits for a human.")
    notify: StrictBool | None = Field(None, description="Slack notifications of pending proposals.")


class SettingsOut(BaseModel):
    threshold: float
    auto_apply: bool
    notify: bool
    slack_configured: bool
    is_default: bool  # the tenant never saved its own settings
    updated_at: datetime | None
    updated_by: str | None


class ScanOut(BaseModel):
    handled: int  # drift events handled by this scan
    created: int
    applied: int
    pending: int
