"""Batch mapping: map every stream of a connection (or of a tenant) and materialise.

    python -m autonomos.jobs.batch_map --tenant TENANT [--connection UUID ...]

Runs as a Ray job (``ray job submit ... -- python -m autonomos.jobs.batch_map ...`` or
``POST /api/v1/jobs``). For each stream it takes the stream's latest accepted schema
(``schema_fingerprints``) and a few sample values from its newest landed batch, asks the
matcher for a mapping, and writes it through the mapping registry: a field at or above
``--auto-threshold`` (when the entity decision is confident too) becomes ``active``, any
other suggestion ``proposed`` (the threshold defaults to the tenant's Safe Mode
threshold, as for repairs); ``decided_by`` is ``batch_map``. A field whose current
mapping was decided by anyone else (a person, the repair agent) is left alone, and an
unchanged suggestion writes nothing, so re-running the job is idempotent. Then the
tenant's DCL actor re-materialises the connections that have active mappings.

Settings come from the environment (``AUTONOMOS_*``): the API passes the non-secret ones
in the job's runtime env; a ``ray job submit`` user passes them with
``--runtime-env-json '{"env_vars": {"AUTONOMOS_DATA_DIR": ...}}'``.

Exit codes: 0 done; 1 a stream or the materialisation failed (the mappings written are
kept; a retry redoes only what is missing); 2 bad arguments, unknown tenant or connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.aam.landing import LandingZone
from autonomos.aam.repair.safe_mode import SafeMode
from autonomos.aam.repair.suggest import tenant_memory
from autonomos.common.private_files import restrict_umask
from autonomos.config import Settings, SettingsError
from autonomos.dcl.refresh import ViewRefresher
from autonomos.events.log import EventLog
from autonomos.jobs.mapping import (
    Report,
    UsageError,
    find_connections,
    run_batch_map,
)
from autonomos.store.errors import NotFound
from autonomos.store.session import Database
from autonomos.store.tenants import find_tenant

log = logging.getLogger("autonomos.jobs.batch_map")


async def tenant_safe_mode(session: AsyncSession, settings: Settings) -> SafeMode:
    """The tenant's Safe Mode (nothing activates when its automatic repairs are off)."""
    from autonomos.aam.repair import store as repair_store

    safe, _ = await repair_store.get_settings(session, settings.repair_threshold)
    return safe


def _matcher(settings: Settings, tenant_id: uuid.UUID, use_embedder: bool, memory: Any) -> Any:
    from autonomos.matching.matcher import Matcher
    from autonomos.ontology import load_ontology

    embedder = None
    if use_embedder:
        from autonomos.serve_apps.embedder.client import get_embedder

        shared = get_embedder(settings)

        class _ForTenant:  # the matcher's embedder port, with per-tenant usage counting
            def encode(self, texts: list[str]) -> Any:
                return shared.encode(texts, tenant_id=tenant_id)

        embedder = _ForTenant()
    return Matcher(load_ontology(), embedder=embedder, memory=memory, tenant_id=tenant_id)


def _views(settings: Settings, db: Database) -> tuple[Any, ViewRefresher]:
    """The tenant's ``dcl:<tenant>`` actor (the single writer of its DuckDB file) and a view
    refresher over it. A batch job runs on the Ray cluster (or in ``autonomos up``, which
    starts one), where the DCL lives in actors; an in-process DCL belongs to the API
    process, which no job can write for."""
    if not settings.dcl_in_ray:
        raise UsageError(
            "batch mapping refreshes views through the DCL actors: it needs "
            "AUTONOMOS_DCL_EXECUTOR=ray (the default); use --no-materialize otherwise"
        )
    import ray

    from autonomos.actors.dcl import RayDCL

    if not ray.is_initialized():
        # Inside a Ray job RAY_ADDRESS names the job's own cluster.
        ray.init(
            address=settings.ray_address or "auto",
            namespace=settings.ray_namespace,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    from autonomos.actors.agents import RayAgentRunner
    from autonomos.agents.runner import after_materialize

    port = RayDCL(settings)
    # the agents that read the rebuilt views run next (Ray tasks owned by this process:
    # a caller that exits soon after waits for them, as `autonomos up` does)
    agents = after_materialize(db, RayAgentRunner(settings))
    return port, ViewRefresher(db, port, on_materialized=agents)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m autonomos.jobs.batch_map", description=__doc__.splitlines()[0]
    )
    p.add_argument("--tenant", required=True, help="tenant id or name")
    p.add_argument(
        "--connection",
        action="append",
        default=[],
        help="connection id (repeatable); default: every active connection of the tenant",
    )
    p.add_argument(
        "--auto-threshold",
        type=float,
        default=None,
        help="activate suggestions at or above this confidence; default: the tenant's Safe "
        "Mode threshold (nothing is activated when its automatic repairs are off)",
    )
    p.add_argument("--no-materialize", action="store_true", help="only write the mappings")
    p.add_argument(
        "--no-embedder",
        action="store_true",
        help="match on names, types and values only (no sentence embeddings)",
    )
    args = p.parse_args(argv)
    if args.auto_threshold is not None and not 0.0 < args.auto_threshold <= 1.0:
        p.error("--auto-threshold must be above 0 and at most 1")
    try:
        args.connection = [uuid.UUID(c) for c in args.connection]
    except ValueError:
        p.error("--connection must be a UUID")
    return args


async def map_tenant(
    settings: Settings,
    tenant: str,
    connections: Sequence[uuid.UUID] = (),
    *,
    auto_threshold: float | None = None,
    use_embedder: bool = True,
    materialize_views: bool = True,
) -> Report:
    """Map every stream of ``connections`` (default: all of the tenant's) and materialise
    the views: what the job does, callable in-process (``autonomos up`` maps the demo)."""
    db = Database(settings.app_database_url)
    try:
        tenant_id = await find_tenant(db, tenant)
        async with db.tenant_session(tenant_id) as s:
            await find_connections(s, list(connections))  # unknown ids fail before any work
            safe = (
                SafeMode(threshold=auto_threshold)
                if auto_threshold is not None
                else await tenant_safe_mode(s, settings)
            )
            memory = await tenant_memory(s, tenant_id)  # what its people decided
        matcher = _matcher(settings, tenant_id, use_embedder, memory)
        port, refresher = _views(settings, db) if materialize_views else (None, None)

        try:
            return await run_batch_map(
                db,
                tenant_id,
                list(connections),
                matcher,
                safe_mode=safe,
                refresher=refresher,
                open_file=LandingZone.from_settings(settings).open,
            )
        finally:
            if port is not None:
                await port.close()
    finally:
        await db.dispose()


async def _main(args: argparse.Namespace, settings: Settings) -> Report:
    # the job's own process: its events (views.*, agent runs its refreshes queue) are
    # numbered here before it exits
    db = Database(settings.app_database_url)
    events = EventLog.from_settings(settings, db)
    try:
        return await map_tenant(
            settings,
            args.tenant,
            args.connection,
            auto_threshold=args.auto_threshold,
            use_embedder=not args.no_embedder,
            materialize_views=not args.no_materialize,
        )
    finally:
        await events.close()
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    restrict_umask()  # what the job writes in the data dir is private (0600)
    args = _parse(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings()
    except (ValidationError, SettingsError) as exc:
        print(f"error: invalid configuration: {exc}", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(_main(args, settings))
    except (UsageError, NotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"ok": report.ok, **asdict(report)}, default=str, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
