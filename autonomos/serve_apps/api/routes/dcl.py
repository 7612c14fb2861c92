"""/api/v1/dcl: the ontology, the mapping registry, unified views and the SQL sandbox.

Reads need the viewer role, changes the operator role. Views and queries go to the
tenant's DCL port (its ``dcl:<tenant>`` actor, or in-process), which only ever opens that
tenant's DuckDB file. A mapping change commits with its audit row and its view refresh
request, then the refresh runs; the response carries the refresh's outcome (recorded in
``view_refreshes``, listed by ``GET /api/v1/dcl/refreshes``), so a failure there is
visible and never undoes the committed change. DCL errors reach the caller through the
app's one error handler.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from autonomos.dcl import registry
from autonomos.dcl.browse import MAX_LIMIT, Filter, ViewRequest
from autonomos.dcl.changes import Editor
from autonomos.dcl.refresh import RefreshOutcome, RefreshReason, RefreshStatus
from autonomos.dcl.registry import MappingStatus
from autonomos.dcl.transforms import TRANSFORMS
from autonomos.ontology import load_ontology
from autonomos.serve_apps.api.deps import (
    DclDep,
    MappingsDep,
    Operator,
    RefresherDep,
    RequestId,
    TenantSession,
    Viewer,
)
from autonomos.serve_apps.api.errors import ApiError, errors
from autonomos.serve_apps.api.schemas_dcl import (
    MappingChanged,
    MappingIn,
    MappingList,
    MappingOut,
    MaterializeIn,
    MaterializeOut,
    OntologyOut,
    QueryIn,
    QueryOut,
    RefreshList,
    RefreshOut,
    RestoreIn,
    RetireIn,
    TransformOut,
    ViewList,
    ViewPage,
)
from autonomos.store.aam_models import Connection
from autonomos.store.dcl_models import MappingRegistry
from autonomos.store.errors import NotFound

router = APIRouter(prefix="/api/v1/dcl", tags=["dcl"], responses=errors(400, 503))


def _out(row: MappingRegistry) -> MappingOut:
    return MappingOut.model_validate(row, from_attributes=True)


def refresh_out(outcome: RefreshOutcome) -> RefreshOut:
    return RefreshOut.model_validate(outcome, from_attributes=True)


async def _require_connection(session: TenantSession, connection_id: uuid.UUID) -> None:
    if await session.get(Connection, connection_id) is None:
        raise NotFound("connection not found")


def _changed(row: MappingRegistry, outcome: RefreshOutcome | None) -> MappingChanged:
    return MappingChanged(
        mapping=_out(row),
        materialization=outcome.report if outcome is not None else None,
        refresh=refresh_out(outcome) if outcome is not None else None,
    )


# -- ontology and mappings ------------------------------------------------------------


@router.get("/ontology", operation_id="getOntology")
async def get_ontology(_: Viewer) -> OntologyOut:
    """The canonical ontology every mapping targets, and the transforms a mapping may use."""
    doc = load_ontology().to_dict()
    transforms = [
        TransformOut(name=t.name, description=t.description, argument=t.arg)
        for t in TRANSFORMS.values()
    ]
    return OntologyOut.model_validate({**doc, "transforms": transforms})


@router.get("/mappings", operation_id="listMappings")
async def list_mappings(
    _: Viewer,
    session: TenantSession,
    connection_id: uuid.UUID,
    stream: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(pattern=r"^(active|proposed|broken|retired)$")] = None,
) -> MappingList:
    """The current mapping of every field of a connection (of one stream, of one status)."""
    await _require_connection(session, connection_id)
    rows = await registry.current_mappings(
        session, connection_id, stream, (status,) if status else None
    )
    return MappingList(mappings=[_out(r) for r in rows], total=len(rows))


@router.put("/mappings", operation_id="setMapping")
async def set_mapping(
    body: MappingIn, op: Operator, mappings: MappingsDep, rid: RequestId
) -> MappingChanged:
    """Map a source field onto an ontology field (a new version when anything changed)."""
    row, outcome = await mappings.set(
        op.tenant_id,
        Editor(op.user_id, rid),
        connection_id=body.connection_id,
        stream=body.stream,
        source_field=body.source_field,
        entity=body.entity,
        field=body.field,
        transform=body.transform,
        confidence=body.confidence,
        status=MappingStatus(body.status),
        replace_target=body.replace_target,
        materialize=body.materialize,
    )
    return _changed(row, outcome)


@router.post("/mappings/retire", operation_id="retireMapping")
async def retire_mapping(
    body: RetireIn, op: Operator, mappings: MappingsDep, rid: RequestId
) -> MappingChanged:
    """Switch a field's mapping off (``retired``, or ``broken`` when the source changed)."""
    row, outcome = await mappings.retire(
        op.tenant_id,
        Editor(op.user_id, rid),
        connection_id=body.connection_id,
        stream=body.stream,
        source_field=body.source_field,
        status=MappingStatus(body.status),
        materialize=body.materialize,
    )
    return _changed(row, outcome)


@router.get("/mappings/history", operation_id="mappingHistory")
async def mapping_history(
    _: Viewer,
    session: TenantSession,
    connection_id: uuid.UUID,
    stream: Annotated[str, Query(min_length=1, max_length=200)],
    source_field: Annotated[str, Query(min_length=1, max_length=500)],
) -> MappingList:
    """Every version of one field's mapping, newest first."""
    await _require_connection(session, connection_id)
    rows = await registry.history(session, connection_id, stream, source_field)
    return MappingList(mappings=[_out(r) for r in rows], total=len(rows))


@router.post("/mappings/{mapping_id}/restore", operation_id="restoreMapping")
async def restore_mapping(
    mapping_id: uuid.UUID,
    op: Operator,
    mappings: MappingsDep,
    rid: RequestId,
    body: Annotated[RestoreIn | None, Body()] = None,
) -> MappingChanged:
    """Re-activate a past version of a field's mapping, as its newest version."""
    body = body or RestoreIn()
    row, outcome = await mappings.restore(
        op.tenant_id,
        Editor(op.user_id, rid),
        mapping_id,
        replace_target=body.replace_target,
        materialize=body.materialize,
    )
    return _changed(row, outcome)


@router.post("/materialize", operation_id="materializeViews")
async def materialize(body: MaterializeIn, op: Operator, refresher: RefresherDep) -> MaterializeOut:
    """Bring a connection's views up to date now (``full``: rebuild from landed data).

    The refresh is recorded like every other (``GET /api/v1/dcl/refreshes``); 503 when the
    tenant's DCL could not do it, with the reason.
    """
    outcome = await refresher.refresh(
        op.tenant_id,
        body.connection_id,
        body.streams,
        full=body.full,
        reason=RefreshReason.MANUAL,
        subject_id=op.user_id,
    )
    if outcome.report is None:
        raise ApiError(
            503,
            "dcl_unavailable",
            f"the views could not be refreshed: {outcome.error or outcome.status}",
            {"refresh_id": str(outcome.id), "status": outcome.status.value},
        )
    return MaterializeOut.model_validate({**outcome.report, "refresh": refresh_out(outcome)})


@router.get("/refreshes", operation_id="listViewRefreshes")
async def list_refreshes(
    principal: Viewer,
    refresher: RefresherDep,
    connection_id: uuid.UUID | None = None,
    status: RefreshStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> RefreshList:
    """View refreshes, newest first: what each mapping change, repair, sync or manual
    request did to the views (status, and the reason when it failed)."""
    found = await refresher.find(
        principal.tenant_id, connection_id=connection_id, status=status, limit=limit, offset=offset
    )
    return RefreshList(refreshes=[refresh_out(o) for o in found], limit=limit, offset=offset)


@router.get("/refreshes/{refresh_id}", operation_id="getViewRefresh")
async def get_refresh(
    refresh_id: uuid.UUID, principal: Viewer, refresher: RefresherDep
) -> RefreshOut:
    return refresh_out(await refresher.get(principal.tenant_id, refresh_id))


# -- views and the SQL sandbox ----------------------------------------------------------


@router.get("/views", operation_id="listViews")
async def list_views(principal: Viewer, dcl: DclDep) -> ViewList:
    """Every unified view: row count, freshness and contributing connections."""
    views = await dcl.list_views(principal.tenant_id)
    return ViewList.model_validate({"views": views, "total": len(views)})


@router.get("/views/{entity}", operation_id="readView")
async def read_view(
    entity: str,
    principal: Viewer,
    dcl: DclDep,
    fields: Annotated[str | None, Query(max_length=2000, description="a,b,c")] = None,
    filter: Annotated[
        list[str] | None, Query(max_length=20, description="field:op:value (repeatable)")
    ] = None,
    sort: Annotated[str | None, Query(max_length=500, description="field or -field, ...")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
) -> ViewPage:
    """One page of a view's rows; pass ``next_cursor`` back as ``cursor`` for the next.

    Filter operators: eq, ne, lt, lte, gt, gte, in (comma-separated values), contains,
    prefix, null, notnull.
    """
    request = ViewRequest(
        fields=tuple(f.strip() for f in (fields or "").split(",") if f.strip()),
        filters=tuple(Filter.parse(f) for f in filter or ()),
        sort=tuple(s.strip() for s in (sort or "").split(",") if s.strip()),
        limit=limit,
        cursor=cursor,
    )
    page = await dcl.read_view(principal.tenant_id, entity, request)
    return ViewPage.model_validate(page)


@router.post("/query", operation_id="runQuery", response_model=QueryOut)
async def run_query(body: QueryIn, principal: Viewer, dcl: DclDep) -> Response:
    """Read-only SQL over the tenant's views: one SELECT, no file or network access, row,
    byte and time limits. Anything else is refused with 400 and the reason."""
    result = await dcl.query(
        principal.tenant_id, body.sql, limit=body.limit, timeout_s=body.timeout_s
    )
    # encoded by the sandbox within the time limit; sent as it is
    return Response(result.to_json(), media_type="application/json")
