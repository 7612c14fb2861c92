"""A tenant's edge policy, derived from Settings and what the operator granted it.

Nothing in a connection's stored configuration widens it: the API process builds the
policy to check a configuration at create/patch time, and the sync engine (inline or in
a Ray actor, from the Settings it was started with) builds it again before every run.
Operator grants (``tenants.files_roots``) are written by the CLI only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.config import Settings
from autonomos.connectors.edge import EdgePolicy, HostRules, LocalRoots
from autonomos.connectors.edge.paths import real
from autonomos.store.errors import NotFound, StoreError
from autonomos.store.models import Tenant
from autonomos.store.session import Database


class GrantRefused(StoreError):
    """An operator grant that would expose the data dir, or a path that is not a folder."""


def upload_area(settings: Settings, tenant_id: uuid.UUID) -> Path:
    return real(settings.uploads_dir / str(tenant_id))


def edge_policy(
    settings: Settings, tenant_id: uuid.UUID, granted: Sequence[str] = ()
) -> EdgePolicy:
    tid = str(tenant_id)
    roots = [real(r.replace("{tenant_id}", tid)) for r in settings.files_roots]
    roots += [real(g) for g in granted]
    return EdgePolicy(
        local=LocalRoots(upload_area(settings, tenant_id), real(settings.data_dir), tuple(roots)),
        schemes=frozenset(settings.files_schemes),
        hosts=HostRules.parse(settings.files_allowed_hosts),
        block_private_databases=settings.blocks_private_databases,
    )


class EdgePolicies:
    """Builds the edge policy of the tenant a session works for."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def for_tenant(self, session: AsyncSession, tenant_id: uuid.UUID) -> EdgePolicy:
        granted = await session.scalar(select(Tenant.files_roots).where(Tenant.id == tenant_id))
        return edge_policy(self.settings, tenant_id, granted or ())


def grantable(settings: Settings, path: Path) -> Path:
    """``path`` resolved, if a folder the operator may grant: never the data dir, a
    folder inside it, or one that contains it."""
    folder = real(path)
    data_dir = real(settings.data_dir)
    if not folder.is_dir():
        raise GrantRefused(f"{path} is not a directory")
    if folder == data_dir or data_dir in folder.parents or folder in data_dir.parents:
        raise GrantRefused(
            f"{path} is, is inside or contains the data dir, which tenants never read; put "
            "the files elsewhere or upload them (POST /api/v1/aam/uploads)"
        )
    return folder


async def grant_root(settings: Settings, db: Database, tenant_id: uuid.UUID, path: Path) -> Path:
    """Let the tenant's files connections read the folder ``path`` (operator only)."""
    folder = grantable(settings, path)
    async with db.global_session() as s:
        tenant = await s.get(Tenant, tenant_id, with_for_update=True)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id}")
        if str(folder) not in tenant.files_roots:
            tenant.files_roots = [*tenant.files_roots, str(folder)]
    return folder
