"""Deciding repair proposals: apply (auto or approved), reject, edit-and-approve, roll back.

Every change to mappings goes through the mapping registry (``autonomos.dcl.registry``),
inside the caller's tenant transaction, and is recorded as steps on the proposal::

    {"op": "set" | "retire", "source_field", "row_id": <registry row written>,
     "previous": <the field's row before, or None>, "noop": bool}

A rollback undoes the steps newest first, restoring each field's previous version (as a
new version: history is never rewritten) and refuses when a later change touched the same
field. Every decision is audited with who, when, and the proposal's state before and after,
and announced (``repair.applied`` / ``approved`` / ``rejected`` / ``rolled_back``) in the
same transaction;
approvals are registry rows ``decided_by`` the user, which is the tenant's mapping memory.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.aam.repair.models import PROPOSALS, ProposalStatus
from autonomos.common.states import InvalidTransition
from autonomos.dcl import registry
from autonomos.dcl.errors import MappingError
from autonomos.dcl.registry import MappingStatus
from autonomos.dcl.transforms import validate as validate_transform
from autonomos.events.log import record
from autonomos.ontology import load_ontology
from autonomos.store.audit import audit
from autonomos.store.base import utcnow
from autonomos.store.dcl_models import MappingRegistry
from autonomos.store.errors import Conflict
from autonomos.store.repair_models import RepairProposalRow

__all__ = ["AGENT", "Decider", "Edit", "apply", "approve", "reject", "rollback", "snapshot"]

AGENT = "repair-agent"  # decided_by of repairs Safe Mode applied on its own
# a decision's audit action -> the event it announces: Safe Mode *applies* a repair on its
# own (``repair.applied``); a person *approves* one (as proposed or edited), which applies
# it (``repair.approved``), rejects or rolls it back
_EVENTS = {
    "repair.auto_apply": "repair.applied",
    "repair.approve": "repair.approved",
    "repair.edit_approve": "repair.approved",
    "repair.reject": "repair.rejected",
    "repair.rollback": "repair.rolled_back",
}
_EDITABLE = {
    "remap": {"target", "transform", "new_source_field"},
    "new_mapping": {"target", "transform"},
    "cast": {"target", "transform"},
    "mark_broken": {"target", "transform", "new_source_field"},
    "quarantine": {"target", "transform"},
}


@dataclass(frozen=True)
class Decider:
    """Who decides: a user (by id) or the agent itself."""

    decided_by: str
    user_id: uuid.UUID | None = None
    request_id: str | None = None

    @classmethod
    def user(cls, user_id: uuid.UUID, request_id: str | None = None) -> Decider:
        return cls(str(user_id), user_id, request_id)

    @property
    def is_human(self) -> bool:
        return self.user_id is not None


@dataclass(frozen=True)
class Edit:
    """A human's change to a proposal before approving it (None: keep the proposal's)."""

    target: str | None = None
    transform: str | None = None  # "" removes the transform
    new_source_field: str | None = None
    replace_target: bool = False  # take the target from the field that feeds it now

    def fields(self) -> set[str]:
        given = {"target": self.target, "transform": self.transform}
        given["new_source_field"] = self.new_source_field
        return {k for k, v in given.items() if v is not None}


def snapshot(m: MappingRegistry | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "id": str(m.id),
        "version": m.version,
        "status": m.status,
        "target": f"{m.entity}.{m.field}",
        "transform": m.transform,
        "confidence": m.confidence,
        "decided_by": m.decided_by,
    }


def _state(row: RepairProposalRow) -> dict[str, Any]:
    return {
        "status": row.status,
        "kind": row.kind,
        "source_field": row.source_field,
        "new_source_field": row.new_source_field,
        "target": row.target,
        "transform": row.transform,
        "confidence": row.confidence,
    }


def _split(target: str) -> tuple[str, str]:
    entity, dot, field = target.partition(".")
    if not dot or not entity or not field:
        raise MappingError(f"target {target!r} must be 'entity.field'")
    try:
        load_ontology().resolve(target)
    except KeyError:
        raise MappingError(f"unknown target {target!r} (not in the ontology)") from None
    return entity, field


class _Applier:
    def __init__(self, session: AsyncSession, row: RepairProposalRow, decider: Decider) -> None:
        self.s, self.row, self.decider = session, row, decider
        self.steps: list[dict[str, Any]] = []

    async def current(self, field: str) -> MappingRegistry | None:
        rows = await registry.history(self.s, self.row.connection_id, self.row.stream, field)
        return rows[0] if rows else None

    async def base(self, field: str) -> MappingRegistry:
        """The active mapping the proposal was planned on, unchanged since."""
        cur = await self.current(field)
        expected = self.row.base_version
        if (
            cur is None
            or cur.status != MappingStatus.ACTIVE
            or (expected and cur.version != expected)
        ):
            now = "gone" if cur is None else f"version {cur.version}, {cur.status}"
            raise Conflict(
                f"the mapping of {field!r} changed since this proposal was made "
                f"(planned on version {expected}, now {now}); nothing was applied"
            )
        return cur

    async def retire(self, field: str, status: MappingStatus) -> None:
        cur = await self.current(field)
        before = snapshot(cur)  # now: writing supersedes ``cur`` in place
        new = await registry.retire_mapping(
            self.s,
            connection_id=self.row.connection_id,
            stream=self.row.stream,
            source_field=field,
            status=status,
            decided_by=self.decider.decided_by,
        )
        self.steps.append(
            {
                "op": "retire",
                "source_field": field,
                "status": status,
                "row_id": str(new.id),
                "previous": before,
                "noop": cur is not None and cur.id == new.id,
            }
        )

    async def set(
        self, field: str, target: str, transform: str | None, confidence: float, replace: bool
    ) -> None:
        entity, name = _split(target)
        for m in await registry.active_mappings(self.s, self.row.connection_id, self.row.stream):
            if (m.entity, m.field) == (entity, name) and m.source_field != field:
                if not replace:
                    raise Conflict(
                        f"{target} is already mapped from {m.source_field!r}; approve with "
                        "replace_target to move it"
                    )
                await self.retire(m.source_field, MappingStatus.RETIRED)
        cur = await self.current(field)
        before = snapshot(cur)
        new = await registry.set_mapping(
            self.s,
            connection_id=self.row.connection_id,
            stream=self.row.stream,
            source_field=field,
            entity=entity,
            field=name,
            transform=transform,
            confidence=confidence,
            status=MappingStatus.ACTIVE,
            decided_by=self.decider.decided_by,
        )
        self.steps.append(
            {
                "op": "set",
                "source_field": field,
                "row_id": str(new.id),
                "previous": before,
                "noop": cur is not None and cur.id == new.id,
            }
        )


def _edited(row: RepairProposalRow, edit: Edit | None) -> tuple[str, str | None, str | None]:
    """(target, transform, new source field) after the human's edit."""
    if edit is None:
        return row.target or "", row.transform, row.new_source_field
    extra = edit.fields() - _EDITABLE[row.kind]
    if extra:
        raise MappingError(f"a {row.kind} proposal cannot change {', '.join(sorted(extra))}")
    if row.kind == "mark_broken" and edit.new_source_field is None and edit.fields():
        raise MappingError("to keep a removed field's mapping, give the new_source_field")
    target = edit.target if edit.target is not None else (row.target or "")
    transform = row.transform if edit.transform is None else validate_transform(edit.transform)
    new_field = edit.new_source_field if edit.new_source_field is not None else row.new_source_field
    if new_field is not None and (not new_field.strip() or len(new_field) > 500):
        raise MappingError("new_source_field must be a non-empty field name (<= 500 chars)")
    return target, transform, new_field


async def apply(
    session: AsyncSession, row: RepairProposalRow, decider: Decider, edit: Edit | None = None
) -> list[dict[str, Any]]:
    """Carry out ``row`` (edited) through the registry; returns the steps taken."""
    target, transform, new_field = _edited(row, edit)
    if target:
        _split(target)
    a = _Applier(session, row, decider)
    conf = 1.0 if decider.is_human else row.confidence
    replace = edit.replace_target if edit else (decider.is_human and row.destructive)
    kind = row.kind
    if kind == "mark_broken" and edit is not None and new_field:
        kind = "remap"  # the human knows where the field went
    if kind == "quarantine" and edit is not None and edit.fields():
        kind = "cast"  # the human gives a transform that makes the values fit
    if kind == "remap":
        if not new_field:
            raise MappingError("a remap needs the field's new path")
        await a.base(row.source_field)
        moved_to = await a.current(new_field)
        if moved_to is not None and moved_to.status == MappingStatus.ACTIVE and not replace:
            raise Conflict(
                f"{new_field!r} already feeds {moved_to.entity}.{moved_to.field}; approve "
                "with replace_target to map it here instead"
            )
        await a.retire(row.source_field, MappingStatus.RETIRED)
        await a.set(new_field, target, transform, conf, replace)
    elif kind == "new_mapping":
        cur = await a.current(row.source_field)
        active = cur is not None and cur.status == MappingStatus.ACTIVE
        if cur is not None and active and f"{cur.entity}.{cur.field}" != target:
            raise Conflict(
                f"{row.source_field!r} was mapped to {cur.entity}.{cur.field} since this "
                "proposal was made; nothing was applied"
            )
        await a.set(row.source_field, target, transform, conf, replace)
    elif kind == "cast":
        cur = await a.base(row.source_field)
        await a.set(row.source_field, target, transform, cur.confidence, replace)
    elif kind in ("mark_broken", "quarantine"):
        await a.base(row.source_field)
        await a.retire(row.source_field, MappingStatus.BROKEN)
    else:  # pragma: no cover - kinds are closed
        raise MappingError(f"unknown proposal kind {row.kind!r}")
    row.target, row.transform = target or row.target, transform
    if kind == "remap":
        row.new_source_field = new_field
    return a.steps


def _move(row: RepairProposalRow, target: ProposalStatus) -> None:
    """The proposal's one transition point (see ``PROPOSALS``)."""
    try:
        row.status = PROPOSALS.transition(ProposalStatus(row.status), target).value
    except InvalidTransition:
        needed = (
            "an applied repair can be rolled back"
            if target is ProposalStatus.ROLLED_BACK
            else "a pending proposal can be decided"
        )
        raise Conflict(f"this proposal is {row.status}; only {needed}") from None


async def _decided(
    session: AsyncSession,
    row: RepairProposalRow,
    decider: Decider,
    action: str,
    before: dict[str, Any],
    note: str | None,
    **details: Any,
) -> RepairProposalRow:
    row.decided_at = utcnow()
    row.decided_by = decider.decided_by
    if note is not None:
        row.decision_note = note
    await audit(
        session,
        action,
        "repair_proposal",
        row.id,
        actor_id=decider.user_id,
        request_id=decider.request_id,
        connection_id=str(row.connection_id),
        stream=row.stream,
        before=before,
        after=_state(row),
        note=note,
        **details,
    )
    record(
        session,
        _EVENTS[action],
        subject={
            "connection_id": row.connection_id,
            "stream": row.stream,
            "proposal_id": row.id,
            "drift_id": row.drift_event_id,
        },
        kind=row.kind,
        source_field=row.source_field,
        target=row.target,
        decided_by=decider.decided_by,
        edited=action == "repair.edit_approve",
        mappings_changed=sum(1 for st in row.applied or [] if not st.get("noop")),
    )
    await session.flush()
    return row


async def approve(
    session: AsyncSession,
    row: RepairProposalRow,
    decider: Decider,
    *,
    edit: Edit | None = None,
    note: str | None = None,
) -> RepairProposalRow:
    """Apply a pending proposal (as proposed, or as edited) and mark it applied."""
    before = _state(row)
    _move(row, ProposalStatus.APPLIED)
    steps = await apply(session, row, decider, edit)
    row.applied = steps
    row.auto_applied = not decider.is_human
    action = (
        "repair.edit_approve"
        if edit is not None
        else ("repair.approve" if decider.is_human else "repair.auto_apply")
    )
    return await _decided(session, row, decider, action, before, note, steps=steps)


async def reject(
    session: AsyncSession, row: RepairProposalRow, decider: Decider, note: str | None = None
) -> RepairProposalRow:
    """Refuse a pending proposal; the mappings stay as they are."""
    before = _state(row)
    _move(row, ProposalStatus.REJECTED)
    return await _decided(session, row, decider, "repair.reject", before, note)


async def rollback(
    session: AsyncSession, row: RepairProposalRow, decider: Decider, note: str | None = None
) -> RepairProposalRow:
    """Undo an applied proposal: every field it touched gets its previous version back."""
    before = _state(row)
    _move(row, ProposalStatus.ROLLED_BACK)
    undone = []
    for step in reversed(row.applied or []):
        field = step["source_field"]
        rows = await registry.history(session, row.connection_id, row.stream, field)
        cur = rows[0] if rows else None
        if cur is None or str(cur.id) != step["row_id"]:
            raise Conflict(
                f"the mapping of {field!r} changed after this repair; roll back or edit that "
                "change first"
            )
        if step.get("noop"):
            continue
        await _restore(session, row, field, step.get("previous"), decider)
        undone.append(step)
    return await _decided(session, row, decider, "repair.rollback", before, note, undone=undone)


async def _restore(
    session: AsyncSession,
    row: RepairProposalRow,
    field: str,
    previous: dict[str, Any] | None,
    decider: Decider,
) -> None:
    if previous is not None and previous["status"] == MappingStatus.ACTIVE:
        await registry.restore(session, uuid.UUID(previous["id"]), decider.decided_by)
    elif previous is not None and previous["status"] == MappingStatus.PROPOSED:
        entity, name = str(previous["target"]).split(".", 1)
        await registry.set_mapping(
            session,
            connection_id=row.connection_id,
            stream=row.stream,
            source_field=field,
            entity=entity,
            field=name,
            transform=previous["transform"],
            confidence=previous["confidence"],
            status=MappingStatus.PROPOSED,
            decided_by=decider.decided_by,
        )
    else:  # never mapped, or switched off: switch it off again
        status = previous["status"] if previous is not None else MappingStatus.RETIRED
        await registry.retire_mapping(
            session,
            connection_id=row.connection_id,
            stream=row.stream,
            source_field=field,
            status=status if status in registry.RETIRING else MappingStatus.RETIRED,
            decided_by=decider.decided_by,
        )
