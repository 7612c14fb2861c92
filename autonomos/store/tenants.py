"""Tenant lookup by id or name (CLI, jobs): the one place that resolves what a user typed."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from autonomos.store.errors import Conflict, NotFound
from autonomos.store.models import Tenant
from autonomos.store.session import Database


async def find_tenant(db: Database, tenant: str) -> uuid.UUID:
    """The id of the tenant ``tenant`` names (a UUID, or a name only one tenant has).

    ``NotFound`` when none matches; ``Conflict`` when several tenants share the name
    (names are not unique: anyone may register any name), so the id must be given.
    """
    async with db.global_session() as s:
        try:
            found = await s.get(Tenant, uuid.UUID(tenant))
        except ValueError:
            named = list(await s.scalars(select(Tenant).where(Tenant.name == tenant).limit(2)))
            if len(named) > 1:
                raise Conflict(f"several tenants are named {tenant!r}; give its id") from None
            found = named[0] if named else None
    if found is None:
        raise NotFound(f"no tenant {tenant!r}")
    return found.id
