"""The RepairAgent actor killed in the middle of applying a repair: Safe Mode's
auto-apply (retire the renamed field's mapping, map its new name) is one transaction, so
the kill leaves the registry exactly as before, and the restarted agent applies the
repair whole, once.

To kill it *inside* that transaction, the test holds a SHARE lock on
``mapping_registry`` (reads pass, writes wait): the agent stores its proposals, starts
applying, and blocks on its first mapping write; the test sees it waiting in
``pg_stat_activity``, kills the process, then releases the lock.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import ray
from sqlalchemy import func, select

from autonomos.aam.sync import SyncEngine
from autonomos.actors.naming import actor_name
from autonomos.actors.repair_agent import RepairAgent
from autonomos.config import Settings
from autonomos.events import InMemoryBus
from autonomos.store.aam_models import DriftEventRow, SyncRun
from autonomos.store.dcl_models import MappingRegistry
from autonomos.store.repair_models import RepairProposalRow, RepairRun
from autonomos.store.session import Database
from tests.conftest import APP_ROLE, PG_HOST, PG_PORT, Tenant, files_connection
from tests.integration.repair.factories import MAPPED, V1, V2, map_fields, sync
from tests.reliability.conftest import new_tenant, report, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.ray]


async def registry(db: Database, tid: uuid.UUID, cid: uuid.UUID) -> list[tuple[Any, ...]]:
    async with db.tenant_session(tid) as s:
        rows = await s.execute(
            select(
                MappingRegistry.source_field,
                MappingRegistry.version,
                MappingRegistry.status,
                MappingRegistry.entity,
                MappingRegistry.field,
            )
            .where(MappingRegistry.connection_id == cid)
            .order_by(MappingRegistry.source_field, MappingRegistry.version)
        )
        return [tuple(r) for r in rows]


async def counts(db: Database, tid: uuid.UUID, event_id: uuid.UUID) -> tuple[int, int]:
    """(proposals of the drift event, repair runs of it) as other sessions see them."""
    async with db.tenant_session(tid) as s:
        proposals = await s.scalar(
            select(func.count())
            .select_from(RepairProposalRow)
            .where(RepairProposalRow.drift_event_id == event_id)
        )
        runs = await s.scalar(
            select(func.count()).select_from(RepairRun).where(RepairRun.drift_event_id == event_id)
        )
        return int(proposals or 0), int(runs or 0)


async def unhandled_drift(
    api: httpx.AsyncClient,
    settings: Settings,
    db: Database,
    t: Tenant,
    tid: uuid.UUID,
    tmp_path: Path,
) -> tuple[uuid.UUID, uuid.UUID]:
    """A connection synced at V1 and mapped, then synced at V2 by a bare engine (no
    after-sync pipeline), so its drift event waits for the agent: (connection, event)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "accounts.csv").write_text(V1)
    cid = await files_connection(api, t, src, "crm")
    await sync(api, t, cid)
    await map_fields(api, t, cid, "accounts", MAPPED)
    (src / "accounts.csv").write_text(V2)
    async with db.tenant_session(tid) as s:
        run = SyncRun(connection_id=uuid.UUID(cid))
        s.add(run)
    engine = SyncEngine.from_settings(settings, db, InMemoryBus(), tid)
    assert (await engine.run(tid, run.id)).value == "succeeded"
    async with db.tenant_session(tid) as s:
        (event_id,) = list(
            await s.scalars(
                select(DriftEventRow.id).where(DriftEventRow.connection_id == uuid.UUID(cid))
            )
        )
    return uuid.UUID(cid), event_id


async def waiting_backends(admin: asyncpg.Connection, database: str) -> list[int]:
    """Pids of the app role's backends waiting for a lock in the test database."""
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND usename = $2 "
        "AND wait_event_type = 'Lock'",
        database,
        APP_ROLE,
    )
    return [r["pid"] for r in rows]


async def test_agent_killed_mid_apply_leaves_no_half_applied_mapping(
    ray_cluster: None,
    rel_api: httpx.AsyncClient,
    rel_settings: Settings,
    pg_database: str,
    direct_db: Database,
    tmp_path: Path,
) -> None:
    t, tid = await new_tenant(rel_api, "repairkill")
    cid, event_id = await unhandled_drift(rel_api, rel_settings, direct_db, t, tid, tmp_path)
    before = await registry(direct_db, tid, cid)
    assert ("user_name", 1, "active", "account", "owner_id") in before
    assert await counts(direct_db, tid, event_id) == (0, 0)

    blocker = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user="postgres", database=pg_database
    )
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database=pg_database)
    lock = blocker.transaction()
    await lock.start()
    await blocker.execute("LOCK TABLE mapping_registry IN SHARE MODE")
    # The API here keeps the tenant's DuckDB open in-process (inline DCL): the agent's
    # view refresh goes to a DCL actor with a DuckDB of its own over the same landing zone.
    agent_settings = rel_settings.model_copy(
        update={
            "data_dir": tmp_path / "agent-data",
            "landing_url": str(rel_settings.data_dir / "landing"),
        }
    )
    agent = RepairAgent.options(  # type: ignore[attr-defined]
        name=actor_name("repair", tid), namespace=rel_settings.ray_namespace, get_if_exists=True
    ).remote(agent_settings, tid)
    try:
        began = time.monotonic()
        pid = (await agent.ping.remote())["pid"]  # its start-up catch-up handles the drift

        async def blocked() -> list[int]:
            return await waiting_backends(admin, pg_database)

        stuck = await wait_until(blocked, "the agent to block inside its apply", within_s=60)
        reached_apply_s = time.monotonic() - began
        # mid-apply: its proposals are written in its open transaction, nothing is visible
        assert await counts(direct_db, tid, event_id) == (0, 0)
        assert await registry(direct_db, tid, cid) == before
        ray.kill(agent, no_restart=False)  # SIGKILL; Ray restarts it under the same name
        killed = time.monotonic()

        async def restarted() -> bool:
            try:
                return bool((await agent.ping.remote())["pid"] != pid)
            except ray.exceptions.RayActorError:
                return False

        await wait_until(restarted, "the agent's restart", within_s=60, every_s=0.2)
        restart_s = time.monotonic() - killed
        assert await registry(direct_db, tid, cid) == before  # still nothing half-applied
    finally:
        await lock.rollback()  # release: the dead transaction rolls back, the new one runs
        await blocker.close()

    async def repaired() -> bool:
        return (await counts(direct_db, tid, event_id))[1] == 1 and not await agent.busy.remote()

    try:
        await wait_until(repaired, "the restarted agent's repair", within_s=60, every_s=0.2)
        applied_after_release_s = time.monotonic() - killed - restart_s
        assert not set(stuck) & set(await waiting_backends(admin, pg_database))
    finally:
        await admin.close()
        ray.kill(agent, no_restart=True)
        with contextlib.suppress(ValueError):  # the detached DCL actor its refresh created
            namespace = rel_settings.ray_namespace
            ray.kill(ray.get_actor(actor_name("dcl", tid), namespace=namespace))

    after = await registry(direct_db, tid, cid)
    # the rename applied whole: old mapping retired (one new version), new name active
    assert ("user_name", 2, "retired", "account", "owner_id") in after
    assert ("username", 1, "active", "account", "owner_id") in after
    active_owner = [r for r in after if r[2] == "active" and r[3:] == ("account", "owner_id")]
    assert len(active_owner) == 1
    async with direct_db.tenant_session(tid) as s:
        proposals = list(
            await s.scalars(
                select(RepairProposalRow).where(RepairProposalRow.drift_event_id == event_id)
            )
        )
    touched = {p.source_field for p in proposals if p.status == "applied"}
    assert {r for r in before if r[0] not in touched} <= set(after)  # the rest as it was
    by_field = {(p.kind, p.source_field): p.status for p in proposals}
    assert by_field[("remap", "user_name")] == "applied"
    assert len(proposals) == len({(p.kind, p.source_field) for p in proposals})  # once each
    report(
        "repair agent killed mid-apply",
        reached_apply_s=reached_apply_s,
        backends_waiting_at_kill=len(stuck),
        restart_s=restart_s,
        applied_after_release_s=applied_after_release_s,
        proposals=len(proposals),
        applied=sum(p.status == "applied" for p in proposals),
        mapping_rows_before=len(before),
        mapping_rows_after=len(after),
    )
