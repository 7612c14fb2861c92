"""/api/v1/aam: connections, discovery, sync runs, drift, and the connectors overview."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, status
from sqlalchemy import func, select

from autonomos.aam.connections import ConnectionService
from autonomos.serve_apps.api.deps import (
    Admin,
    ConnectionsDep,
    DbDep,
    DclDep,
    Operator,
    RequestId,
    TenantSession,
    Viewer,
)
from autonomos.serve_apps.api.errors import ApiError, errors
from autonomos.serve_apps.api.schemas_aam import (
    CheckOut,
    ConnectionCreate,
    ConnectionList,
    ConnectionOut,
    ConnectionUpdate,
    ConnectorDTO,
    ConnectorList,
    DiscoverOut,
    DriftEventList,
    DriftEventOut,
    FieldOut,
    StreamOut,
    SyncIn,
    SyncRunList,
    SyncRunOut,
    SyncStarted,
)
from autonomos.store.aam_models import Connection, DriftEventRow, SyncRun
from autonomos.store.audit import audit

router = APIRouter(prefix="/api/v1/aam", tags=["aam"])
log = logging.getLogger("autonomos.api.aam")


def _out(service: ConnectionService, conn: Connection) -> ConnectionOut:
    return ConnectionOut(
        id=conn.id,
        name=conn.name,
        source_type=conn.source_type,
        config=service.public_config(conn),
        status=conn.status,
        drift_policy=conn.drift_policy,
        created_at=conn.created_at,
        updated_at=conn.updated_at,
    )


@router.get("/healthz", operation_id="aamHealthz")
async def aam_healthz(_: Viewer, session: TenantSession) -> dict[str, object]:
    """AAM is serving: the tenant's connections and in-flight runs are readable."""
    running = await session.scalar(
        select(func.count()).select_from(SyncRun).where(SyncRun.status.in_(["queued", "running"]))
    )
    return {"status": "ok", "runs_in_progress": running or 0}


@router.get("/connectors", operation_id="listConnectors")
async def list_connectors(
    _: Viewer, session: TenantSession, service: ConnectionsDep
) -> ConnectorList:
    """Connections with mapping count, drift flag and last event (one batched query)."""
    started = time.perf_counter()
    rows = await service.overview(session)
    log.info(
        "connectors overview: %d rows in %.1f ms", len(rows), (time.perf_counter() - started) * 1000
    )
    return ConnectorList(connectors=[ConnectorDTO(**r) for r in rows], total=len(rows))


@router.get("/connections", operation_id="listConnections")
async def list_connections(
    _: Viewer, session: TenantSession, service: ConnectionsDep
) -> ConnectionList:
    rows = list(await session.scalars(select(Connection).order_by(Connection.created_at)))
    return ConnectionList(connections=[_out(service, c) for c in rows], total=len(rows))


@router.post("/connections", operation_id="createConnection", status_code=status.HTTP_201_CREATED)
async def create_connection(
    body: ConnectionCreate,
    op: Operator,
    session: TenantSession,
    service: ConnectionsDep,
    rid: RequestId,
) -> ConnectionOut:
    conn = await service.create(
        session, body.name, body.source_type, body.config, body.drift_policy
    )
    await audit(
        session,
        "connection.create",
        "connection",
        conn.id,
        actor_id=op.user_id,
        request_id=rid,
        source_type=conn.source_type,
    )
    return _out(service, conn)


@router.get("/connections/{connection_id}", operation_id="getConnection")
async def get_connection(
    connection_id: uuid.UUID, _: Viewer, session: TenantSession, service: ConnectionsDep
) -> ConnectionOut:
    return _out(service, await service.get(session, connection_id))


@router.patch("/connections/{connection_id}", operation_id="updateConnection")
async def update_connection(
    connection_id: uuid.UUID,
    body: ConnectionUpdate,
    op: Operator,
    session: TenantSession,
    service: ConnectionsDep,
    rid: RequestId,
) -> ConnectionOut:
    conn = await service.update(session, connection_id, **body.model_dump(exclude_none=True))
    await audit(
        session,
        "connection.update",
        "connection",
        conn.id,
        actor_id=op.user_id,
        request_id=rid,
        fields=sorted(body.model_dump(exclude_none=True)),
    )
    return _out(service, conn)


@router.delete(
    "/connections/{connection_id}",
    operation_id="deleteConnection",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_connection(
    connection_id: uuid.UUID,
    admin: Admin,
    session: TenantSession,
    service: ConnectionsDep,
    rid: RequestId,
    dcl: DclDep,
    background: BackgroundTasks,
) -> None:
    await service.delete(session, connection_id)
    # once the deletion is committed, its rows leave the unified views
    background.add_task(_drop_views, dcl, admin.tenant_id, connection_id)
    await audit(
        session,
        "connection.delete",
        "connection",
        connection_id,
        actor_id=admin.user_id,
        request_id=rid,
    )


async def _drop_views(dcl: DclDep, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    try:
        await dcl.drop_connection(tenant_id, connection_id)
    except Exception:  # the next materialisation drops them anyway
        log.exception("dropping views of deleted connection %s failed", connection_id)


@router.post("/connections/{connection_id}/check", operation_id="checkConnection")
async def check_connection(
    connection_id: uuid.UUID, _: Operator, session: TenantSession, service: ConnectionsDep
) -> CheckOut:
    """Try to reach the source; a failure is reported in the body, classified."""
    conn = await service.get(session, connection_id)
    result = await service.check(session, conn)
    return CheckOut(**result.__dict__)


@router.post(
    "/connections/{connection_id}/discover",
    operation_id="discoverConnection",
    responses=errors(502, 504),
)
async def discover_connection(
    connection_id: uuid.UUID, _: Operator, session: TenantSession, service: ConnectionsDep
) -> DiscoverOut:
    conn = await service.get(session, connection_id)
    try:
        streams = await service.discover(session, conn)
    except TimeoutError:
        raise ApiError(504, "source_timeout", "the source did not answer in time") from None
    return DiscoverOut(
        streams=[
            StreamOut(
                name=st.name,
                fields=[
                    FieldOut(
                        name=f.name,
                        type=f.type.value,
                        nullable=f.nullable,
                        description=f.description,
                        source_type=f.source_type,
                    )
                    for f in st.fields
                ],
                primary_key=list(st.primary_key),
                cursor_field=st.cursor_field,
            )
            for st in streams
        ]
    )


@router.post(
    "/connections/{connection_id}/sync",
    operation_id="startSync",
    status_code=status.HTTP_202_ACCEPTED,
)
async def start_sync(
    connection_id: uuid.UUID,
    op: Operator,
    db: DbDep,
    service: ConnectionsDep,
    rid: RequestId,
    body: SyncIn | None = None,
) -> SyncStarted:
    """Queue a sync run and start it; poll GET /api/v1/aam/runs/{id} for its progress."""
    async with db.tenant_session(op.tenant_id) as session:
        run = await service.start_sync(session, connection_id, body.streams if body else None)
        await audit(
            session,
            "sync.start",
            "connection",
            connection_id,
            actor_id=op.user_id,
            request_id=rid,
            run_id=str(run.id),
        )
    await service.launch(op.tenant_id, run)  # after commit: the runner must see the run
    return SyncStarted(run_id=run.id, status=run.status)


@router.get("/connections/{connection_id}/runs", operation_id="listSyncRuns")
async def list_runs(
    connection_id: uuid.UUID,
    _: Viewer,
    session: TenantSession,
    service: ConnectionsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SyncRunList:
    await service.get(session, connection_id)
    rows = await session.scalars(
        select(SyncRun)
        .where(SyncRun.connection_id == connection_id)
        .order_by(SyncRun.queued_at.desc())
        .limit(limit)
    )
    return SyncRunList(runs=[SyncRunOut.model_validate(r) for r in rows])


@router.get("/connections/{connection_id}/drift", operation_id="listDriftEvents")
async def list_drift(
    connection_id: uuid.UUID, _: Viewer, session: TenantSession, service: ConnectionsDep
) -> DriftEventList:
    await service.get(session, connection_id)
    rows = await session.scalars(
        select(DriftEventRow)
        .where(DriftEventRow.connection_id == connection_id)
        .order_by(DriftEventRow.detected_at.desc())
        .limit(200)
    )
    return DriftEventList(events=[DriftEventOut.model_validate(r) for r in rows])


@router.get("/runs/{run_id}", operation_id="getSyncRun")
async def get_run(run_id: uuid.UUID, _: Viewer, session: TenantSession) -> SyncRunOut:
    run = await session.get(SyncRun, run_id)
    if run is None:
        raise ApiError(404, "not_found", "sync run not found")
    return SyncRunOut.model_validate(run)


@router.post("/runs/{run_id}/cancel", operation_id="cancelSyncRun")
async def cancel_run(
    run_id: uuid.UUID, op: Operator, session: TenantSession, service: ConnectionsDep, rid: RequestId
) -> SyncRunOut:
    run = await service.cancel(session, run_id)
    await audit(session, "sync.cancel", "sync_run", run_id, actor_id=op.user_id, request_id=rid)
    return SyncRunOut.model_validate(run)
