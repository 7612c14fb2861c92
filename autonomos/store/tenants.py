"""Tenant lookup by id or name (CLI, jobs): the one place that resolves what a user typed."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from autonomos.store.errors import NotFound
from autonomos.store.models import Tenant
from autonomos.store.session import Database


async def find_tenant(db: Database, tenant: str) -> uuid.UUID:
    """The id of the tenant named ``tenant`` (a UUID or a name); ``NotFound`` otherwise."""
    async with db.global_session() as s:
        try:
            found = await s.get(Tenant, uuid.UUID(tenant))
        except ValueError:
            found = await s.scalar(select(Tenant).where(Tenant.name == tenant))
    if found is None:
        raise NotFound(f"no tenant {tenant!r}")
    return found.id
