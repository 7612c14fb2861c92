"""Ingest a directory of files for a tenant: create the files connection once, sync it.

Used by ``autonomos ingest files`` and by ``autonomos up`` for the demo data, both run by
the operator on the host: the directory is granted to the tenant first (an operator
grant, see :func:`autonomos.aam.edge.grant_root`), so the same edge policy that guards
the API lets this tenant's syncs read it. Idempotent: a second run finds the connection,
and the files connector skips files it has finished.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from autonomos.aam.connections import ConnectionService, InlineSyncLauncher
from autonomos.aam.drift import DriftPolicy
from autonomos.aam.edge import EdgePolicies, grant_root
from autonomos.aam.landing import LandingZone
from autonomos.aam.sync import SyncEngine
from autonomos.config import Settings
from autonomos.store.aam_models import Connection, SyncRun
from autonomos.store.errors import Conflict, NotFound
from autonomos.store.secrets import SecretBox
from autonomos.store.session import Database


async def ingest_files(
    settings: Settings,
    db: Database,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    path: Path | None,
    name: str | None = None,
) -> SyncRun:
    """Sync the files connection ``connection_id`` (created over ``path`` if missing).

    ``path`` must be an existing absolute directory (the CLI checks it); it is granted
    to the tenant.
    """
    box = SecretBox.from_settings(settings)
    edges = EdgePolicies(settings)
    engine = SyncEngine(
        db,
        LandingZone.from_settings(settings),
        box,
        edges,
        retry_window_s=settings.sync_retry_window_s,
    )
    service = ConnectionService(box, InlineSyncLauncher(engine.run), edges)
    if path is not None:
        path = await grant_root(settings, db, tenant_id, path)
    async with db.tenant_session(tenant_id) as s:
        conn = await s.get(Connection, connection_id)
        if conn is None:
            if path is None:
                raise NotFound(
                    f"connection {connection_id} does not exist; give --path to create it"
                )
            await service.create(
                s,
                name or f"files-{connection_id.hex[:8]}",
                "files",
                {"path": str(path)},
                DriftPolicy.PROPOSE,
                connection_id,
            )
        elif conn.source_type != "files":
            raise Conflict(f"connection {connection_id} is a {conn.source_type} connection")
        run = await service.start_sync(s, connection_id, None)
        run_id = run.id
    await engine.run(tenant_id, run_id)
    async with db.tenant_session(tenant_id) as s:
        finished = await s.get(SyncRun, run_id)
        assert finished is not None
        return finished
