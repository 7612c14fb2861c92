"""/api/v1/tenant (the caller's tenant) and /api/v1/audit (its audit log)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from autonomos.serve_apps.api.deps import Admin, DbDep, TenantSession, Viewer
from autonomos.serve_apps.api.schemas import AuditList, AuditOut, TenantOut
from autonomos.store.errors import NotFound
from autonomos.store.models import AuditLog, Tenant

router = APIRouter(prefix="/api/v1", tags=["tenant"])


@router.get("/tenant", operation_id="getTenant")
async def get_tenant(principal: Viewer, db: DbDep) -> TenantOut:
    async with db.global_session() as s:
        tenant = await s.get(Tenant, principal.tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return TenantOut.model_validate(tenant)


@router.get("/audit", operation_id="listAudit")
async def list_audit(
    _: Admin,
    session: TenantSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: Annotated[str | None, Query(max_length=100)] = None,
) -> AuditList:
    query = select(AuditLog).order_by(AuditLog.at.desc()).limit(limit)
    if action:
        query = query.where(AuditLog.action == action)
    rows = await session.scalars(query)
    return AuditList(entries=[AuditOut.model_validate(r) for r in rows])
