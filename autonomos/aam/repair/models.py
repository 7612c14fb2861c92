"""Envelopes of the repair agent: the mappings it repairs and the proposals it makes."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from autonomos.common.states import StateMachine

__all__ = [
    "PROPOSALS",
    "Alternative",
    "Evidence",
    "MappingRef",
    "ProposalKind",
    "ProposalStatus",
    "RepairProposal",
]

ProposalKind = Literal[
    "remap",  # a renamed / moved field keeps its mapping under the new path
    "new_mapping",  # a new field gets the matcher's suggestion
    "mark_broken",  # a mapped field disappeared: its mapping is broken (and alerted)
    "cast",  # a mapped field's type widened: convert it back with a cast rule
    "quarantine",  # a mapped field narrowed / changed shape or meaning: hold it aside
]


class ProposalStatus(enum.StrEnum):
    """A proposal's life::

    pending ──► applied ──► rolled_back
       ├──────► rejected
       └──────► superseded   (a newer drift of the same field replaced it)
    """

    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"
    ROLLED_BACK = "rolled_back"
    SUPERSEDED = "superseded"


PROPOSALS: StateMachine[ProposalStatus] = StateMachine(
    "repair proposal",
    {
        ProposalStatus.PENDING: {
            ProposalStatus.APPLIED,
            ProposalStatus.REJECTED,
            ProposalStatus.SUPERSEDED,
        },
        ProposalStatus.APPLIED: {ProposalStatus.ROLLED_BACK},
        ProposalStatus.REJECTED: (),
        ProposalStatus.ROLLED_BACK: (),
        ProposalStatus.SUPERSEDED: (),
    },
)


@dataclass(frozen=True)
class MappingRef:
    """The part of an active mapping registry row that repairs need."""

    source_field: str
    entity: str
    field: str
    transform: str | None = None
    confidence: float = 1.0
    version: int = 1

    @property
    def target(self) -> str:
        return f"{self.entity}.{self.field}"

    @classmethod
    def of(cls, row: Any) -> MappingRef:
        """From a ``MappingRegistry`` row (or anything with the same attributes)."""
        return cls(
            source_field=row.source_field,
            entity=row.entity,
            field=row.field,
            transform=row.transform,
            confidence=float(row.confidence),
            version=int(row.version),
        )


class Alternative(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: str  # a target ("entity.field") or a source path, by the proposal's kind
    score: float


class Evidence(BaseModel):
    """Why the agent proposes what it does, for the human who decides."""

    model_config = ConfigDict(frozen=True)

    summary: str
    signals: dict[str, float | str] = Field(default_factory=dict)  # each signal's score
    samples_before: list[str] = Field(default_factory=list)  # landed values, old schema
    samples_after: list[str] = Field(default_factory=list)  # landed values, new schema
    alternatives: list[Alternative] = Field(default_factory=list)  # top-3 other choices
    old_fingerprint: str | None = None
    new_fingerprint: str | None = None
    change: dict[str, Any] = Field(default_factory=dict)  # the drift change it answers
    mapping_before: dict[str, Any] | None = None  # the active mapping it starts from


class RepairProposal(BaseModel):
    """One proposed change to a connection's mappings."""

    model_config = ConfigDict(frozen=True)

    kind: ProposalKind
    connection_id: str
    stream: str
    source_field: str  # the field whose mapping changes (the new field for new_mapping)
    new_source_field: str | None = None  # remap: where the mapping moves
    target: str | None = None  # "entity.field"
    transform: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    destructive: bool
    reason: str
    evidence: Evidence
    drift_event_id: str | None = None
    base_version: int | None = None  # registry version of the mapping it was planned on

    def dedupe_key(self) -> str:
        """Same drift, same kind, same fields: the same proposal (replays add nothing)."""
        basis = "\x1f".join(
            str(x)
            for x in (
                self.drift_event_id or self.evidence.new_fingerprint,
                self.connection_id,
                self.stream,
                self.kind,
                self.source_field,
                self.new_source_field,
                self.target,
            )
        )
        return hashlib.sha256(basis.encode()).hexdigest()
