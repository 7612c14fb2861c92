"""Schema drift: what changed between two versions of a stream, and what to do about it."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from autonomos.aam._rename import (
    RENAME_THRESHOLD,
    FieldView,
    description_similarity,
    match_renames,
    placed,
    schema_vocabulary,
)
from autonomos.aam._rename_model import RenameModel
from autonomos.aam.type_lattice import Direction, type_direction
from autonomos.common.text import normalize_name
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

__all__ = [
    "RENAME_THRESHOLD",
    "ChangeKind",
    "Direction",
    "DriftChange",
    "DriftEvent",
    "DriftPolicy",
    "PolicyDecision",
    "RenameEvidence",
    "Severity",
    "change_severity",
    "decide",
    "detect_drift",
    "overall_severity",
    "type_direction",
]

ChangeKind = Literal[
    "added",
    "removed",
    "type_changed",
    "renamed",
    "primary_key_changed",
    "cursor_changed",
    "nullability_changed",
    "meaning_changed",  # same name and type, but its description now says something else
]
Severity = Literal["info", "warning", "breaking"]

MEANING_CHANGED_BELOW = 0.3  # description similarity under which a kept name is suspect


class RenameEvidence(BaseModel):
    """The signals behind a rename's confidence (see ``aam._rename``)."""

    model_config = ConfigDict(frozen=True)

    pattern: str  # separator | joined | envelope | move | typo | inverted | fuzzy | ...
    name: float
    type: float
    position: float
    description: float | None = None
    runner_up: float | None = None  # best competing pair, when close enough to matter


class DriftChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: ChangeKind
    path: str  # dotted; the new path for renames, "" for stream-level changes
    old_type: FieldType | None = None
    new_type: FieldType | None = None
    old_source_type: str | None = None
    new_source_type: str | None = None
    direction: Direction | None = None  # type changes (and renames that also change type)
    old_path: str | None = None  # renames
    new_path: str | None = None
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)  # renames, meaning_changed
    transform: str | None = None  # renames that need one to keep meaning ("not")
    evidence: RenameEvidence | None = None  # renames
    old_value: str | None = None  # primary key / cursor / nullability, as text
    new_value: str | None = None


class DriftEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    connection_id: str
    stream: str
    old_fingerprint: str
    new_fingerprint: str
    changes: tuple[DriftChange, ...]
    detected_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    severity: Severity


def _union(source_type: str) -> frozenset[str]:
    return frozenset(p.strip() for p in source_type.lower().split("|") if p.strip())


def _structure_changed(old: FieldSpec, new: FieldSpec) -> bool:
    """JSON columns keep one canonical type; object <-> array is still a real change (a
    union listed in another order is not)."""
    return (
        old.type is FieldType.JSON
        and old.source_type is not None
        and new.source_type is not None
        and _union(old.source_type) != _union(new.source_type)
    )


def _type_change(path: str, old: FieldSpec, new: FieldSpec) -> DriftChange | None:
    direction = type_direction(old.type, new.type)
    if direction is None and _structure_changed(old, new):
        direction = "incompatible"
    if direction is None:
        return None
    return DriftChange(
        kind="type_changed",
        path=path,
        old_type=old.type,
        new_type=new.type,
        old_source_type=old.source_type,
        new_source_type=new.source_type,
        direction=direction,
    )


def _meaning_change(path: str, old: FieldSpec, new: FieldSpec) -> DriftChange | None:
    """Same name and type, but descriptions that no longer describe the same thing."""
    sim = description_similarity(old.description, new.description)
    if sim is None or sim >= MEANING_CHANGED_BELOW:
        return None
    if min(len((old.description or "").split()), len((new.description or "").split())) < 3:
        return None  # too short to tell a rewording from a new meaning
    return DriftChange(
        kind="meaning_changed",
        path=path,
        old_type=old.type,
        new_type=new.type,
        old_value=(old.description or "")[:500],
        new_value=(new.description or "")[:500],
        confidence=round(1.0 - sim, 4),
    )


def _views(
    schema: StreamSchema, samples: Callable[[str], Sequence[Any]] | None = None
) -> dict[str, FieldView]:
    last = max(len(schema.fields) - 1, 1)
    out = {}
    for i, f in enumerate(schema.fields):
        path = normalize_name(f.name)
        values = tuple(str(v) for v in samples(path) if v is not None)[:50] if samples else ()
        out[path] = FieldView(path, f.type, f.source_type, f.description, i / last, values)
    return out


def detect_drift(
    old: StreamSchema,
    new: StreamSchema,
    *,
    samples: Callable[[str], Sequence[Any]] | None = None,
    rename_model: RenameModel | None = None,
) -> list[DriftChange]:
    """Classify every difference between two schema versions (paths are normalised).

    ``samples``: values of a field by normalised path (landed data of either version),
    when at hand: renamed fields keep their values, which rename scoring weighs."""
    before = {normalize_name(f.name): f for f in old.fields}
    after = {normalize_name(f.name): f for f in new.fields}
    changes: list[DriftChange] = []
    for path in sorted(before.keys() & after.keys()):
        o, n = before[path], after[path]
        if (tc := _type_change(path, o, n)) is not None:
            changes.append(tc)
        elif (mc := _meaning_change(path, o, n)) is not None:
            changes.append(mc)
        if o.nullable != n.nullable:
            changes.append(
                DriftChange(
                    kind="nullability_changed",
                    path=path,
                    old_value=str(o.nullable).lower(),
                    new_value=str(n.nullable).lower(),
                    direction="widen" if n.nullable else "narrow",
                )
            )
    removed = {p: before[p] for p in sorted(before.keys() - after.keys())}
    added = {p: after[p] for p in sorted(after.keys() - before.keys())}
    old_views, new_views = placed(
        list(_views(old, samples).values()), list(_views(new, samples).values())
    )
    for cand in match_renames(
        [old_views[p] for p in removed],
        [new_views[p] for p in added],
        schema_vocabulary(before),
        rename_model,
    ):
        o, n = removed.pop(cand.old), added.pop(cand.new)
        changes.append(
            DriftChange(
                kind="renamed",
                path=cand.new,
                old_path=cand.old,
                new_path=cand.new,
                confidence=cand.confidence,
                old_type=o.type,
                new_type=n.type,
                old_source_type=o.source_type,
                new_source_type=n.source_type,
                direction=type_direction(o.type, n.type),
                transform=cand.transform,
                evidence=RenameEvidence(pattern=cand.pattern, **cand.signals),
            )
        )
    changes += [DriftChange(kind="removed", path=p, old_type=f.type) for p, f in removed.items()]
    changes += [DriftChange(kind="added", path=p, new_type=f.type) for p, f in added.items()]
    old_pk = [normalize_name(k) for k in old.primary_key]
    new_pk = [normalize_name(k) for k in new.primary_key]
    if old_pk != new_pk:
        changes.append(
            DriftChange(
                kind="primary_key_changed",
                path="",
                old_value=",".join(old_pk),
                new_value=",".join(new_pk),
            )
        )
    old_cur = normalize_name(old.cursor_field) if old.cursor_field else None
    new_cur = normalize_name(new.cursor_field) if new.cursor_field else None
    if old_cur != new_cur:
        changes.append(
            DriftChange(kind="cursor_changed", path="", old_value=old_cur, new_value=new_cur)
        )
    return changes


# ---------------------------------------------------------------- policy


class DriftPolicy(enum.StrEnum):
    AUTO = "auto"  # apply safe changes, propose the rest
    PROPOSE = "propose"  # apply nothing; every change is a proposal
    BLOCK = "block"  # pause the stream on anything breaking; otherwise as AUTO
    QUARANTINE = "quarantine"  # keep loading; hold aside fields with breaking changes


def _is_safe(c: DriftChange) -> bool:
    """Safe to apply without a human: nothing already loaded changes meaning."""
    if c.kind == "added":
        return True
    return c.kind in ("type_changed", "nullability_changed") and c.direction == "widen"


def change_severity(c: DriftChange) -> Severity:
    if _is_safe(c):
        return "info"
    if c.kind in ("removed", "primary_key_changed") or (
        c.kind in ("type_changed", "nullability_changed") and c.direction != "widen"
    ):
        return "breaking"
    if c.kind == "renamed" and c.direction in ("narrow", "incompatible"):
        return "breaking"
    return "warning"  # renames, cursor changes


def overall_severity(changes: Sequence[DriftChange]) -> Severity:
    order: dict[Severity, int] = {"info": 0, "warning": 1, "breaking": 2}
    return max((change_severity(c) for c in changes), key=order.__getitem__, default="info")


class PolicyDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    policy: DriftPolicy
    apply: tuple[DriftChange, ...] = ()  # applied automatically
    propose: tuple[DriftChange, ...] = ()  # need a human (or the repair agent) to approve
    quarantine_fields: tuple[str, ...] = ()  # source paths whose values are held aside
    pause_stream: bool = False
    reason: str = ""


def _affected_paths(c: DriftChange) -> list[str]:
    if c.kind == "renamed":
        return [p for p in (c.old_path, c.new_path) if p]
    return [c.path] if c.path else []


def decide(policy: DriftPolicy, changes: Sequence[DriftChange]) -> PolicyDecision:
    """Which changes apply on their own, which become proposals, and whether to pause.

    Narrowing and incompatible changes are never applied silently under any policy.
    """
    safe = tuple(c for c in changes if _is_safe(c))
    unsafe = tuple(c for c in changes if not _is_safe(c))
    breaking = tuple(c for c in changes if change_severity(c) == "breaking")
    if policy is DriftPolicy.PROPOSE:
        return PolicyDecision(policy=policy, propose=tuple(changes), reason="all proposed")
    if policy is DriftPolicy.BLOCK and breaking:
        return PolicyDecision(
            policy=policy,
            propose=tuple(changes),
            pause_stream=True,
            reason=f"{len(breaking)} breaking change(s); stream paused",
        )
    if policy is DriftPolicy.QUARANTINE:
        held = sorted({p for c in breaking for p in _affected_paths(c)})
        return PolicyDecision(
            policy=policy,
            apply=safe,
            propose=unsafe,
            quarantine_fields=tuple(held),
            reason=f"{len(held)} field(s) held aside" if held else "nothing held aside",
        )
    return PolicyDecision(
        policy=policy, apply=safe, propose=unsafe, reason=f"{len(safe)} applied automatically"
    )
