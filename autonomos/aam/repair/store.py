"""Persistence of repair proposals and Safe Mode settings (tenant sessions only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.aam.repair.models import PROPOSALS, ProposalStatus, RepairProposal
from autonomos.aam.repair.safe_mode import DEFAULT_THRESHOLD, SafeMode
from autonomos.events.log import record
from autonomos.store.errors import Conflict, NotFound
from autonomos.store.repair_models import RepairProposalRow, RepairSettings

__all__ = [
    "MAX_PAGE",
    "Page",
    "get_proposal",
    "get_settings",
    "list_proposals",
    "save_proposals",
    "update_settings",
]

MAX_PAGE = 200


@dataclass(frozen=True)
class Page:
    items: list[RepairProposalRow]
    total: int
    limit: int
    offset: int


def _row(p: RepairProposal) -> RepairProposalRow:
    return RepairProposalRow(
        connection_id=uuid.UUID(p.connection_id),
        stream=p.stream,
        drift_event_id=uuid.UUID(p.drift_event_id) if p.drift_event_id else None,
        kind=p.kind,
        status=ProposalStatus.PENDING.value,
        source_field=p.source_field,
        new_source_field=p.new_source_field,
        target=p.target,
        transform=p.transform,
        confidence=p.confidence,
        destructive=p.destructive,
        reason=p.reason,
        evidence=p.evidence.model_dump(mode="json"),
        old_fingerprint=p.evidence.old_fingerprint,
        new_fingerprint=p.evidence.new_fingerprint,
        base_version=p.base_version,
        applied=[],
        dedupe_key=p.dedupe_key(),
    )


async def save_proposals(
    session: AsyncSession, proposals: Sequence[RepairProposal]
) -> list[RepairProposalRow]:
    """Insert the proposals not stored yet (by dedupe key), each with its
    ``repair.proposed`` event; returns the new rows.

    A pending proposal about the same field of the same stream is superseded by a newer
    one: only the latest drift is worth deciding on.
    """
    if not proposals:
        return []
    keys = [p.dedupe_key() for p in proposals]
    known = set(
        await session.scalars(
            select(RepairProposalRow.dedupe_key).where(RepairProposalRow.dedupe_key.in_(keys))
        )
    )
    rows = []
    for p, key in zip(proposals, keys, strict=True):
        if key in known:
            continue
        known.add(key)
        older = await session.scalars(
            select(RepairProposalRow).where(
                RepairProposalRow.connection_id == uuid.UUID(p.connection_id),
                RepairProposalRow.stream == p.stream,
                RepairProposalRow.source_field == p.source_field,
                RepairProposalRow.status == ProposalStatus.PENDING.value,
                RepairProposalRow.dedupe_key.not_in(keys),  # not one of this batch
            )
        )
        for old in older:
            old.status = PROPOSALS.transition(ProposalStatus.PENDING, ProposalStatus.SUPERSEDED)
            old.decision_note = "a newer drift of the same field replaced this proposal"
        row = _row(p)
        session.add(row)
        rows.append(row)
    await session.flush()
    for row in rows:
        record(
            session,
            "repair.proposed",
            subject={
                "connection_id": row.connection_id,
                "stream": row.stream,
                "proposal_id": row.id,
                "drift_id": row.drift_event_id,
            },
            kind=row.kind,
            source_field=row.source_field,
            target=row.target,
            confidence=row.confidence,
            destructive=row.destructive,
        )
    return rows


async def get_proposal(
    session: AsyncSession, proposal_id: uuid.UUID, *, for_update: bool = False
) -> RepairProposalRow:
    """The tenant's proposal; NotFound for unknown ids and other tenants' alike."""
    row = await session.get(RepairProposalRow, proposal_id, with_for_update=for_update)
    if row is None:
        raise NotFound("repair proposal not found")
    return row


async def list_proposals(
    session: AsyncSession,
    *,
    status: ProposalStatus | None = None,
    connection_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Newest first, filtered by status and/or connection."""
    query = select(RepairProposalRow)
    count = select(func.count()).select_from(RepairProposalRow)
    if status is not None:
        query = query.where(RepairProposalRow.status == status)
        count = count.where(RepairProposalRow.status == status)
    if connection_id is not None:
        query = query.where(RepairProposalRow.connection_id == connection_id)
        count = count.where(RepairProposalRow.connection_id == connection_id)
    total = int(await session.scalar(count) or 0)
    rows = await session.scalars(
        query.order_by(RepairProposalRow.created_at.desc(), RepairProposalRow.id)
        .limit(limit)
        .offset(offset)
    )
    return Page(list(rows), total, limit, offset)


async def get_settings(
    session: AsyncSession, default_threshold: float = DEFAULT_THRESHOLD
) -> tuple[SafeMode, RepairSettings | None]:
    """The tenant's Safe Mode (the default until it saves its own) and its row."""
    row = await session.scalar(select(RepairSettings))
    if row is None:
        return SafeMode(threshold=default_threshold), None
    return SafeMode(threshold=row.threshold, auto_apply=row.auto_apply), row


async def update_settings(
    session: AsyncSession,
    *,
    threshold: float | None = None,
    auto_apply: bool | None = None,
    notify: bool | None = None,
    updated_by: str,
    default_threshold: float = DEFAULT_THRESHOLD,
) -> RepairSettings:
    """Create or change the tenant's settings row."""
    row = await session.scalar(select(RepairSettings).with_for_update())
    if row is None:
        row = RepairSettings(threshold=default_threshold, auto_apply=True, notify=True)
        session.add(row)
    if threshold is not None:
        SafeMode(threshold=threshold)  # validates the range
        row.threshold = threshold
    if auto_apply is not None:
        row.auto_apply = auto_apply
    if notify is not None:
        row.notify = notify
    row.updated_by = updated_by
    try:
        await session.flush()
    except IntegrityError:  # two first saves raced; the other one won
        raise Conflict("the repair settings were changed concurrently; retry") from None
    return row
