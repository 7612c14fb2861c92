"""``autonomos ingest``: sync a files connection from the host."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from autonomos.cli._common import (
    do_migrate,
    fail,
    load_settings,
    numbering_events,
    out,
    run_async,
)
from autonomos.config import Settings

ingest_app = typer.Typer(help="Ingest data into a tenant.", no_args_is_help=True)


def ingest(
    settings: Settings, tenant: str, connection_id: uuid.UUID, path: Path | None, name: str | None
) -> Any:
    """Sync the files connection ``connection_id`` of ``tenant`` (name or id) now; its run."""

    async def _run() -> Any:
        from autonomos.aam.ingest import ingest_files
        from autonomos.store.session import Database
        from autonomos.store.tenants import find_tenant

        db = Database(settings.app_database_url)
        try:
            tenant_id = await find_tenant(db, tenant)
            async with numbering_events(settings, db):
                return await ingest_files(settings, db, tenant_id, connection_id, path, name)
        finally:
            await db.dispose()

    return run_async(_run)


@ingest_app.command("files")
def ingest_files_cmd(
    connection_id: Annotated[str, typer.Option(help="UUID of the files connection.")],
    namespace: Annotated[str, typer.Option(help="Tenant (name or id) to ingest into.")],
    path: Annotated[
        Path | None,
        typer.Option(
            help="Directory to read: granted to the tenant's files connections, and the "
            "connection is created over it if missing."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name for a new connection.")] = None,
) -> None:
    """Sync a files connection now (idempotent: finished files are not read again).

    Run by the operator on the host: ``--path`` grants that directory to the tenant (so
    its syncs, in the API or in Ray, may read it); it can never be the data dir."""
    try:
        cid = uuid.UUID(connection_id)
    except ValueError:
        fail(f"--connection-id must be a UUID, got {connection_id!r}", 2)
    settings = load_settings()
    if path is not None:
        from autonomos.aam.edge import GrantRefused, grantable

        try:
            path = grantable(settings, path)
        except GrantRefused as e:
            fail(str(e), 2)
    do_migrate(settings)
    run = ingest(settings, namespace, cid, path, name)
    table = Table("run", "status", "read", "written", "quarantined")
    table.add_row(
        str(run.id),
        run.status,
        str(run.records_read),
        str(run.records_written),
        str(run.records_quarantined),
    )
    out.print(table)
    if run.status != "succeeded":
        fail(f"sync {run.status}: {run.error}")
