"""Concurrency: 20 syncs at once across 10 tenants land exactly what each source holds,
within the admission limits; a hot tenant's backlog does not starve the others (the
per-tenant limit and round-robin queueing of ``autonomos.aam.admission``)."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from autonomos.aam.connections import InlineSyncLauncher
from autonomos.aam.landing import LandingZone
from autonomos.config import Settings
from autonomos.store.aam_models import SyncRun
from autonomos.store.session import Database
from tests.conftest import Tenant, files_connection
from tests.reliability.conftest import landed_ids, new_tenant, proxied_settings, report, write_csv
from tests.reliability.faults import TcpProxy

pytestmark = pytest.mark.postgres

TOTAL, PER_TENANT = 4, 2


@pytest.fixture(scope="module")
async def limited_api(
    pg_database: str, pg_proxy: TcpProxy, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    from autonomos.serve_apps.api.app import create_app

    settings: Settings = proxied_settings(
        tmp_path_factory.mktemp("data-concurrency"),
        pg_database,
        pg_proxy,
        sync_max_concurrency=TOTAL,
        sync_tenant_max_concurrency=PER_TENANT,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.runtime = app.state.runtime  # type: ignore[attr-defined]
            yield client


async def start(api: httpx.AsyncClient, t: Tenant, cid: str) -> uuid.UUID:
    r = await api.post(f"/api/v1/aam/connections/{cid}/sync", headers=t.headers)
    assert r.status_code == 202, r.text
    return uuid.UUID(r.json()["run_id"])


async def drain(api: httpx.AsyncClient) -> None:
    launcher = api.runtime.connections.launcher  # type: ignore[attr-defined]
    assert isinstance(launcher, InlineSyncLauncher) and launcher.admission is not None
    await asyncio.wait_for(launcher.drain(), 240)


def max_overlap(spans: list[tuple[datetime, datetime]]) -> int:
    """Most intervals open at one instant."""
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


async def runs_of(db: Database, tid: uuid.UUID, ids: list[uuid.UUID]) -> list[SyncRun]:
    async with db.tenant_session(tid) as s:
        return list(await s.scalars(select(SyncRun).where(SyncRun.id.in_(ids))))


async def test_twenty_concurrent_syncs_across_ten_tenants(
    limited_api: httpx.AsyncClient, direct_db: Database, tmp_path: Path
) -> None:
    api = limited_api
    zone = LandingZone.from_settings(api.runtime.settings)  # type: ignore[attr-defined]
    plan: list[tuple[Tenant, uuid.UUID, str, int]] = []  # tenant, tenant id, connection, rows
    for i in range(10):
        t, tid = await new_tenant(api, f"conc{i}")
        for j in range(2):
            rows = 2_000 + 137 * (2 * i + j)  # every source a different size
            src = tmp_path / f"t{i}c{j}"
            src.mkdir()
            write_csv(src / "orders.csv", rows)
            plan.append((t, tid, await files_connection(api, t, src), rows))
    began = time.monotonic()
    run_ids = await asyncio.gather(*(start(api, t, cid) for t, _, cid, _ in plan))
    await drain(api)
    took = time.monotonic() - began
    spans: list[tuple[datetime, datetime]] = []
    per_tenant: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}
    for (_, tid, cid, rows), run_id in zip(plan, run_ids, strict=True):
        (run,) = await runs_of(direct_db, tid, [run_id])
        assert run.status == "succeeded", run.error
        assert (run.records_read, run.records_written) == (rows, rows)
        landed, ids = await landed_ids(direct_db, zone, tid, uuid.UUID(cid))
        assert landed == rows and len(ids) == len(set(ids)) == rows
        assert run.started_at and run.finished_at
        spans.append((run.started_at, run.finished_at))
        per_tenant.setdefault(tid, []).append((run.started_at, run.finished_at))
    overall = max_overlap(spans)
    assert overall <= TOTAL
    assert max(max_overlap(s) for s in per_tenant.values()) <= PER_TENANT
    report(
        "20 syncs x 10 tenants",
        runs=len(run_ids),
        rows=sum(p[3] for p in plan),
        wall_s=took,
        max_concurrent=overall,
        limit=TOTAL,
    )


async def test_hot_tenant_does_not_starve_others(
    limited_api: httpx.AsyncClient, direct_db: Database, tmp_path: Path
) -> None:
    api = limited_api
    hot, hot_id = await new_tenant(api, "hot")
    hot_conns = []
    for j in range(10):
        src = tmp_path / f"hot{j}"
        src.mkdir()
        write_csv(src / "orders.csv", 20_000)
        hot_conns.append(await files_connection(api, hot, src))
    cold = []
    for i in range(3):
        t, tid = await new_tenant(api, f"cold{i}")
        src = tmp_path / f"cold{i}"
        src.mkdir()
        write_csv(src / "orders.csv", 2_000)
        cold.append((t, tid, await files_connection(api, t, src)))
    hot_runs = [await start(api, hot, cid) for cid in hot_conns]  # the backlog comes first
    cold_runs = [await start(api, t, cid) for t, _, cid in cold]
    await drain(api)

    def waited(run: SyncRun) -> float:
        assert run.status == "succeeded", run.error
        assert run.started_at is not None
        return (run.started_at - run.queued_at).total_seconds()

    hot_rows = sorted(await runs_of(direct_db, hot_id, hot_runs), key=lambda r: r.started_at)
    cold_rows = [(await runs_of(direct_db, tid, [r]))[0] for (_, tid, _), r in zip(cold, cold_runs)]
    hot_waits = [waited(r) for r in hot_rows]
    cold_waits = [waited(r) for r in cold_rows]
    assert max_overlap([(r.started_at, r.finished_at) for r in hot_rows]) <= PER_TENANT
    # every cold run started before the hot tenant's backlog was half done
    median_hot_start = hot_rows[len(hot_rows) // 2].started_at
    assert all(r.started_at < median_hot_start for r in cold_rows)
    assert max(cold_waits) < statistics.median(hot_waits)
    report(
        "hot tenant vs cold tenants",
        hot_runs=len(hot_runs),
        cold_runs=len(cold_runs),
        hot_wait_p50_s=statistics.median(hot_waits),
        hot_wait_max_s=max(hot_waits),
        cold_wait_max_s=max(cold_waits),
        limits=f"{TOTAL}/{PER_TENANT}",
    )
