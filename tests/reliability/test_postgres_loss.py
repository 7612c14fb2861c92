"""PostgreSQL lost in the middle of a sync: every connection through the proxy is
aborted and new ones are refused for a few seconds (what the clients of a restarting
server see). The sync waits, resumes from its last committed checkpoint and lands every
row exactly once."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import httpx
import pytest

from autonomos.aam.landing import LandingZone
from autonomos.aam.sync import SyncEngine
from autonomos.config import Settings
from autonomos.events import InMemoryBus
from autonomos.store.session import Database
from tests.reliability.conftest import (
    files_connection,
    get_run,
    landed_ids,
    new_run,
    new_tenant,
    report,
    wait_until,
    write_csv,
)
from tests.reliability.faults import TcpProxy

pytestmark = pytest.mark.postgres

ROWS, BATCH, OUTAGE_S = 100_000, 1_000, 2.0


async def test_sync_resumes_after_database_outage(
    rel_api: httpx.AsyncClient,
    rel_settings: Settings,
    pg_proxy: TcpProxy,
    direct_db: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, tid = await new_tenant(rel_api, "pgloss")
    write_csv(tmp_path / "orders.csv", ROWS)
    cid = await files_connection(direct_db, tid, tmp_path, batch_size=BATCH)
    run_id = await new_run(direct_db, tid, cid)
    app_db = Database(rel_settings.app_database_url)  # through the proxy, as the app
    engine = SyncEngine.from_settings(rel_settings, app_db, InMemoryBus(), tid)
    engine.backoff_s = 0.1
    caplog.set_level(logging.WARNING, logger="autonomos.aam.sync")
    began = time.monotonic()
    try:
        task = asyncio.create_task(engine.run(tid, run_id))

        async def started() -> int:
            return (await get_run(direct_db, tid, run_id)).records_written

        await wait_until(started, "the first commit", within_s=60)
        before = (await get_run(direct_db, tid, run_id)).records_written
        aborted = pg_proxy.aborted
        pg_proxy.cut()
        await asyncio.sleep(OUTAGE_S)
        during = (await get_run(direct_db, tid, run_id)).records_written
        pg_proxy.restore()
        restored = time.monotonic()

        async def resumed() -> bool:
            return (await get_run(direct_db, tid, run_id)).records_written > during

        await wait_until(resumed, "progress after the database came back", within_s=30)
        resume_s = time.monotonic() - restored
        status = await asyncio.wait_for(task, 120)
    finally:
        if pg_proxy.is_up is False:
            pg_proxy.restore()
        await app_db.dispose()
    run = await get_run(direct_db, tid, run_id)
    assert status.value == "succeeded" and run.status == "succeeded", run.error
    assert 0 < before < ROWS, "the outage did not fall in the middle of the sync"
    assert run.records_read == ROWS and run.records_written == ROWS
    rows, ids = await landed_ids(direct_db, LandingZone.from_settings(rel_settings), tid, cid)
    assert rows == ROWS and len(ids) == ROWS and len(set(ids)) == ROWS  # nothing lost or twice
    retries = sum("unreachable, retry" in r.getMessage() for r in caplog.records)
    assert retries >= 1
    report(
        "postgres outage mid-sync",
        rows=ROWS,
        written_before_cut=before,
        connections_aborted=pg_proxy.aborted - aborted,
        outage_s=OUTAGE_S,
        retries=retries,
        resumed_after_restore_s=resume_s,
        run_total_s=time.monotonic() - began,
    )
