"""The landing store (a real S3-compatible server, behind a proxy the test cuts) becomes
unreachable in the middle of a sync. A short outage: the sync retries and finishes with
every row landed once. An outage longer than ``sync_retry_window_s``: the run fails
cleanly (transient, saying why) with its committed batches intact, and the next run
lands the rest exactly once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from autonomos.aam.landing import LandingZone
from autonomos.aam.sync import SyncEngine
from autonomos.config import Settings
from autonomos.events import InMemoryBus
from autonomos.store.session import Database
from tests.integration.conftest import S3Server, s3_server  # noqa: F401  (fixture)
from tests.reliability.conftest import (
    files_connection,
    get_run,
    landed_ids,
    new_run,
    new_tenant,
    proxied_settings,
    report,
    wait_until,
    write_csv,
)
from tests.reliability.faults import TcpProxy

pytestmark = pytest.mark.postgres

ROWS, BATCH, WINDOW_S = 20_000, 500, 4.0


@pytest.fixture
def s3_proxy(s3_server: S3Server) -> Iterator[TcpProxy]:  # noqa: F811
    endpoint = urlsplit(s3_server.endpoint)
    proxy = TcpProxy(endpoint.hostname or "127.0.0.1", endpoint.port or 80)
    yield proxy
    proxy.close()


async def test_landing_outage_retried_then_failed_cleanly(
    rel_api: httpx.AsyncClient,
    pg_database: str,
    pg_proxy: TcpProxy,
    s3_server: S3Server,  # noqa: F811
    s3_proxy: TcpProxy,
    direct_db: Database,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
) -> None:
    bucket = s3_server.new_bucket()
    landing = s3_server.landing_settings(bucket)
    landing["landing_endpoint_url"] = f"http://{s3_proxy.address}"
    settings: Settings = proxied_settings(
        tmp_path_factory.mktemp("data-landing"),
        pg_database,
        pg_proxy,
        sync_retry_window_s=WINDOW_S,
        **landing,
    )
    zone = LandingZone.from_settings(settings)
    _, tid = await new_tenant(rel_api, "landing")
    write_csv(tmp_path / "orders.csv", ROWS)
    app_db = Database(settings.app_database_url)
    engine = SyncEngine.from_settings(settings, app_db, InMemoryBus(), tid)
    engine.backoff_s = 0.1

    async def sync_with_outage(
        cid: uuid.UUID, outage_s: float
    ) -> tuple[uuid.UUID, float | None, float, int]:
        """Start a run and cut the store after its first commit for ``outage_s`` (less if
        the run ends first): (run, seconds from the cut to the run's end if that fell in
        the outage, seconds from the restore to the end, rows committed before the cut)."""
        run_id = await new_run(direct_db, tid, cid)
        task = asyncio.create_task(engine.run(tid, run_id))

        async def written() -> int:
            return (await get_run(direct_db, tid, run_id)).records_written

        before = await wait_until(written, "the first commit", within_s=60)
        s3_proxy.cut()
        cut_at = time.monotonic()
        try:
            done, _ = await asyncio.wait({task}, timeout=outage_s)
        finally:
            s3_proxy.restore()
        ended_in_outage = time.monotonic() - cut_at if done else None
        restored = time.monotonic()
        await asyncio.wait_for(task, 120)
        return run_id, ended_in_outage, time.monotonic() - restored, before

    try:
        # 1. shorter than the retry window: retried, then finished
        short = await files_connection(direct_db, tid, tmp_path, batch_size=BATCH)
        began = time.monotonic()
        run_id, ended, finish_after_restore, before = await sync_with_outage(short, WINDOW_S / 3)
        assert ended is None  # it waited for the store
        short_total = time.monotonic() - began
        run = await get_run(direct_db, tid, run_id)
        assert run.status == "succeeded", run.error
        assert 0 < before < ROWS and run.records_written == ROWS
        rows, ids = await landed_ids(direct_db, zone, tid, short)
        assert rows == ROWS and len(set(ids)) == len(ids) == ROWS

        # 2. longer than the window: the run fails cleanly, committed batches stay whole
        long = await files_connection(direct_db, tid, tmp_path, batch_size=BATCH)
        # the cut lasts long past the window: each retry's own timeouts stretch under load
        failed_id, failed_after, _, before = await sync_with_outage(long, WINDOW_S * 6)
        assert failed_after is not None and WINDOW_S <= failed_after < WINDOW_S * 6
        failed = await get_run(direct_db, tid, failed_id)
        assert failed.status == "failed" and failed.error_type == "transient"
        assert "landing" in (failed.error or "") and "retried for" in (failed.error or "")
        assert 0 < failed.records_written < ROWS
        rows, ids = await landed_ids(direct_db, zone, tid, long)
        assert rows == failed.records_written == len(ids) == len(set(ids))

        # 3. the store is back: the next run lands the rest, exactly once overall
        again = await new_run(direct_db, tid, long)
        assert (await engine.run(tid, again)).value == "succeeded"
        rerun = await get_run(direct_db, tid, again)
        rows, ids = await landed_ids(direct_db, zone, tid, long)
        assert rows == ROWS and len(ids) == len(set(ids)) == ROWS
        assert failed.records_written + rerun.records_written == ROWS
    finally:
        await app_db.dispose()
    report(
        "landing store outage",
        rows=ROWS,
        retry_window_s=WINDOW_S,
        short_outage_s=WINDOW_S / 3,
        short_run_s=short_total,
        finished_after_restore_s=finish_after_restore,
        long_outage_s=WINDOW_S * 6,
        long_run_failed_after_cut_s=failed_after,
        committed_before_failure=failed.records_written,
        error=repr(failed.error),
    )
