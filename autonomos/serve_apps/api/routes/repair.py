"""/api/v1/repair: the repair agent's proposals, human decisions on them, Safe Mode.

Reading needs the viewer role, deciding (approve, reject, edit-and-approve, roll back,
scan) the operator role, changing the tenant's Safe Mode the admin role. A decision runs
in its own transaction, audited in it, with the view refresh of the stream it changed;
once committed the refresh runs and the answer carries its outcome (see
``autonomos.dcl.refresh``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from autonomos.aam.repair import decisions, store
from autonomos.aam.repair.agent import Decision
from autonomos.aam.repair.models import ProposalStatus
from autonomos.serve_apps.api.deps import (
    Admin,
    Operator,
    Principal,
    RepairDep,
    RequestId,
    SettingsDep,
    TenantSession,
    Viewer,
)
from autonomos.serve_apps.api.routes.dcl import refresh_out
from autonomos.serve_apps.api.schemas_repair import (
    DecisionIn,
    EditIn,
    ProposalList,
    ProposalOut,
    ProposalSummary,
    ScanOut,
    SettingsIn,
    SettingsOut,
)
from autonomos.store.audit import audit
from autonomos.store.repair_models import RepairSettings

router = APIRouter(prefix="/api/v1/repair", tags=["repair"])


@router.get("/proposals", operation_id="listRepairProposals")
async def list_proposals(
    _: Viewer,
    session: TenantSession,
    status: ProposalStatus | None = None,
    connection_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=store.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ProposalList:
    """Newest first; filter by ``status`` and/or ``connection_id``; page with limit/offset."""
    page = await store.list_proposals(
        session, status=status, connection_id=connection_id, limit=limit, offset=offset
    )
    return ProposalList(
        proposals=[ProposalSummary.model_validate(r) for r in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/proposals/{proposal_id}", operation_id="getRepairProposal")
async def get_proposal(proposal_id: uuid.UUID, _: Viewer, session: TenantSession) -> ProposalOut:
    """One proposal with its evidence: each signal's score, sample values before and after,
    the top alternatives, the old and new schema fingerprints."""
    return ProposalOut.model_validate(await store.get_proposal(session, proposal_id))


async def _decide(
    repair: RepairDep,
    who: Principal,
    rid: str | None,
    proposal_id: uuid.UUID,
    action: Decision,
    note: str | None = None,
    edit: EditIn | None = None,
) -> ProposalOut:
    change = None
    if edit is not None:
        change = decisions.Edit(
            edit.target, edit.transform, edit.new_source_field, edit.replace_target
        )
    row, refreshes = await repair.decide(
        who.tenant_id,
        proposal_id,
        action,
        decisions.Decider.user(who.user_id, rid),
        note=note,
        edit=change,
    )
    out = ProposalOut.model_validate(row)
    if refreshes:
        out.refresh = refresh_out(refreshes[-1])
    return out


@router.post("/proposals/{proposal_id}/approve", operation_id="approveRepairProposal")
async def approve_proposal(
    proposal_id: uuid.UUID,
    op: Operator,
    repair: RepairDep,
    rid: RequestId,
    body: DecisionIn | None = None,
) -> ProposalOut:
    """Apply a pending proposal as proposed (the mapping rows are decided by you)."""
    return await _decide(repair, op, rid, proposal_id, "approve", body.note if body else None)


@router.post("/proposals/{proposal_id}/edit", operation_id="editRepairProposal")
async def edit_proposal(
    proposal_id: uuid.UUID, op: Operator, repair: RepairDep, rid: RequestId, body: EditIn
) -> ProposalOut:
    """Edit-and-approve: apply a pending proposal with another target / transform /
    new source path."""
    return await _decide(repair, op, rid, proposal_id, "edit", body.note, body)


@router.post("/proposals/{proposal_id}/reject", operation_id="rejectRepairProposal")
async def reject_proposal(
    proposal_id: uuid.UUID,
    op: Operator,
    repair: RepairDep,
    rid: RequestId,
    body: DecisionIn | None = None,
) -> ProposalOut:
    """Refuse a pending proposal; mappings stay as they are (and the matcher learns it)."""
    return await _decide(repair, op, rid, proposal_id, "reject", body.note if body else None)


@router.post("/proposals/{proposal_id}/rollback", operation_id="rollbackRepairProposal")
async def rollback_proposal(
    proposal_id: uuid.UUID,
    op: Operator,
    repair: RepairDep,
    rid: RequestId,
    body: DecisionIn | None = None,
) -> ProposalOut:
    """Undo an applied repair: each field it touched gets its previous mapping version."""
    return await _decide(repair, op, rid, proposal_id, "rollback", body.note if body else None)


@router.post("/scan", operation_id="scanRepairs")
async def scan(op: Operator, repair: RepairDep, rid: RequestId) -> ScanOut:
    """Handle the tenant's drift events that the repair agent has not seen yet (what the
    ``RepairAgent`` actor does on its own; for deployments that run syncs inline)."""
    results = await repair.catch_up(op.tenant_id)
    out = ScanOut(
        handled=sum(not r.already_handled for r in results),
        created=sum(len(r.created) for r in results),
        applied=sum(len(r.applied) for r in results),
        pending=sum(len(r.pending) for r in results),
    )
    if out.handled:
        async with repair.db.tenant_session(op.tenant_id) as s:
            await audit(
                s,
                "repair.scan",
                "tenant",
                op.tenant_id,
                actor_id=op.user_id,
                request_id=rid,
                **out.model_dump(),
            )
    return out


def _settings_out(
    settings: SettingsDep, row: RepairSettings | None, threshold: float
) -> SettingsOut:
    return SettingsOut(
        threshold=row.threshold if row else threshold,
        auto_apply=row.auto_apply if row else True,
        notify=row.notify if row else True,
        slack_configured=settings.slack_webhook_url is not None,
        is_default=row is None,
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by if row else None,
    )


@router.get("/settings", operation_id="getRepairSettings")
async def get_settings(_: Viewer, session: TenantSession, settings: SettingsDep) -> SettingsOut:
    """The tenant's Safe Mode: threshold, automatic repairs on/off, notifications."""
    safe, row = await store.get_settings(session, settings.repair_threshold)
    return _settings_out(settings, row, safe.threshold)


@router.put("/settings", operation_id="updateRepairSettings")
async def update_settings(
    body: SettingsIn, admin: Admin, session: TenantSession, settings: SettingsDep, rid: RequestId
) -> SettingsOut:
    default = settings.repair_threshold
    safe, old = await store.get_settings(session, default)
    before: dict[str, Any] = _settings_out(settings, old, safe.threshold).model_dump(
        include={"threshold", "auto_apply", "notify"}
    )
    row = await store.update_settings(
        session,
        **body.model_dump(exclude_none=True),
        updated_by=str(admin.user_id),
        default_threshold=default,
    )
    out = _settings_out(settings, row, row.threshold)
    await audit(
        session,
        "repair.settings",
        "repair_settings",
        row.id,
        actor_id=admin.user_id,
        request_id=rid,
        before=before,
        after=out.model_dump(include={"threshold", "auto_apply", "notify"}),
    )
    return out
