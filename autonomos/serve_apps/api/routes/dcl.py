"""/api/v1/dcl: the ontology, the mapping registry, unified views and the SQL sandbox.

Reads need the viewer role, changes the operator role. Views and queries go to the
tenant's DCL (``app.state.dcl``: its ``dcl:<tenant>`` actor, or in-process when
``dcl_executor=inline``), which only ever opens that tenant's DuckDB file. A mapping
change commits first, then re-materialises the stream it touches; the response says
what that did (a failure there never undoes the committed change).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from autonomos.auth.service import audit
from autonomos.dcl import registry
from autonomos.dcl.browse import MAX_LIMIT, Filter, ViewRequest
from autonomos.dcl.errors import (
    DCLError,
    DCLUnavailable,
    MappingError,
    QueryRejected,
    QueryTimeout,
    UnknownView,
)
from autonomos.dcl.port import DCLPort
from autonomos.dcl.transforms import TRANSFORMS
from autonomos.ontology import load_ontology
from autonomos.serve_apps.api.deps import (
    DbDep,
    Operator,
    Principal,
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
log = logging.getLogger("autonomos.api.dcl")


async def get_dcl(request: Request) -> DCLPort:
    dcl: DCLPort = request.app.state.dcl
    return dcl


Dcl = Annotated[DCLPort, Depends(get_dcl)]


@contextmanager
def _dcl_errors(rejected: str = "bad_request") -> Iterator[None]:
    """DCL errors in the API's one error shape (4xx for the caller's mistakes)."""
    try:
        yield
    except QueryTimeout as e:
        raise ApiError(400, "query_timeout", str(e)) from None
    except QueryRejected as e:
        raise ApiError(400, rejected, str(e)) from None
    except UnknownView as e:
        raise ApiError(404, "not_found", str(e)) from None
    except MappingError as e:
        raise ApiError(400, "invalid_mapping", str(e)) from None
    except DCLUnavailable as e:
        raise ApiError(503, "dcl_unavailable", str(e)) from None


def _out(row: MappingRegistry) -> MappingOut:
    return MappingOut.model_validate(row, from_attributes=True)


async def _require_connection(session: Any, connection_id: uuid.UUID) -> None:
    if await session.get(Connection, connection_id) is None:
        raise NotFound("connection not found")


async def _rematerialize(
    dcl: DCLPort, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str
) -> dict[str, Any]:
    try:
        return await dcl.materialize(tenant_id, connection_id, [stream])
    except (DCLError, NotFound) as e:
        log.warning("re-materialising %s/%s failed: %s", connection_id, stream, e)
        return {"error": str(e)}


async def _changed(
    s: Any, action: str, row: MappingRegistry, op: Principal, rid: str | None, **details: Any
) -> MappingOut:
    """Audit a hand-made mapping change (in its transaction); the changed row."""
    await audit(
        s,
        action,
        "mapping",
        row.id,
        actor_id=op.user_id,
        request_id=rid,
        version=row.version,
        **details,
    )
    return _out(row)


async def _answer(
    dcl: DCLPort, op: Principal, out: MappingOut, materialize: bool
) -> MappingChanged:
    """After the commit: refresh the views the change touches when asked to."""
    done = None
    if materialize:
        done = await _rematerialize(dcl, op.tenant_id, out.connection_id, out.stream)
    return MappingChanged(mapping=out, materialization=done)


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
    body: MappingIn, op: Operator, db: DbDep, dcl: Dcl, rid: RequestId
) -> MappingChanged:
    """Map a source field onto an ontology field (a new version when anything changed)."""
    async with db.tenant_session(op.tenant_id) as s:
        with _dcl_errors():
            row = await registry.set_mapping(
                s,
                connection_id=body.connection_id,
                stream=body.stream,
                source_field=body.source_field,
                entity=body.entity,
                field=body.field,
                transform=body.transform,
                confidence=body.confidence,
                status=body.status,
                decided_by=f"user:{op.user_id}",
                replace_target=body.replace_target,
            )
        out = await _changed(
            s,
            "mapping.set",
            row,
            op,
            rid,
            stream=row.stream,
            source_field=row.source_field,
            target=f"{row.entity}.{row.field}",
        )
    return await _answer(dcl, op, out, body.materialize)


@router.post("/mappings/retire", operation_id="retireMapping")
async def retire_mapping(
    body: RetireIn, op: Operator, db: DbDep, dcl: Dcl, rid: RequestId
) -> MappingChanged:
    """Switch a field's mapping off (``retired``, or ``broken`` when the source changed)."""
    async with db.tenant_session(op.tenant_id) as s:
        with _dcl_errors():
            row = await registry.retire_mapping(
                s,
                connection_id=body.connection_id,
                stream=body.stream,
                source_field=body.source_field,
                status=body.status,
                decided_by=f"user:{op.user_id}",
            )
        out = await _changed(s, "mapping.retire", row, op, rid, status=row.status)
    return await _answer(dcl, op, out, body.materialize)


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
    db: DbDep,
    dcl: Dcl,
    rid: RequestId,
    body: Annotated[RestoreIn | None, Body()] = None,
) -> MappingChanged:
    """Re-activate a past version of a field's mapping, as its newest version."""
    body = body or RestoreIn()
    async with db.tenant_session(op.tenant_id) as s:
        with _dcl_errors():
            row = await registry.restore(
                s, mapping_id, f"user:{op.user_id}", replace_target=body.replace_target
            )
        out = await _changed(s, "mapping.restore", row, op, rid, restored_from=str(mapping_id))
    return await _answer(dcl, op, out, body.materialize)


@router.post("/materialize", operation_id="materializeViews")
async def materialize(body: MaterializeIn, op: Operator, dcl: Dcl) -> MaterializeOut:
    """Bring a connection's views up to date now (``full``: rebuild from landed data)."""
    with _dcl_errors():
        report = await dcl.materialize(
            op.tenant_id, body.connection_id, body.streams, full=body.full
        )
    return MaterializeOut.model_validate(report)


# -- views and the SQL sandbox ----------------------------------------------------------


@router.get("/views", operation_id="listViews")
async def list_views(principal: Viewer, dcl: Dcl) -> ViewList:
    """Every unified view: row count, freshness and contributing connections."""
    with _dcl_errors():
        views = await dcl.list_views(principal.tenant_id)
    return ViewList.model_validate({"views": views, "total": len(views)})


@router.get("/views/{entity}", operation_id="readView")
async def read_view(
    entity: str,
    principal: Viewer,
    dcl: Dcl,
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
    with _dcl_errors():
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
async def run_query(body: QueryIn, principal: Viewer, dcl: Dcl) -> Response:
    """Read-only SQL over the tenant's views: one SELECT, no file or network access, row,
    byte and time limits. Anything else is refused with 400 and the reason."""
    with _dcl_errors("query_rejected"):
        result = await dcl.query(
            principal.tenant_id, body.sql, limit=body.limit, timeout_s=body.timeout_s
        )
    # encoded by the sandbox within the time limit; sent as it is
    return Response(result.to_json(), media_type="application/json")
