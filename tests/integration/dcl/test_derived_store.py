"""Each tenant's DuckDB is a derived store: a DCL service opened on a node without the
tenant's file (its actor restarted elsewhere, a node added) rebuilds every view from the
landing zone and the mapping registry before it serves its first read; one opened on a
file left behind earlier adds what landed meanwhile; one on a current file changes
nothing. Runs on SQLite and Postgres, without Ray (the multi-node test does it on Ray).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from autonomos.aam.landing import LandingZone
from autonomos.config import Settings
from autonomos.dcl.errors import DCLUnavailable
from autonomos.dcl.service import DCLService, tenant_file
from autonomos.store.dcl_models import ViewMaterialization
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.views import (
    ACCOUNT_MAP,
    LIVE_ACCOUNTS,
    OPPORTUNITY_MAP,
    connect,
    demo_source,
    map_stream,
    materialize,
    query,
    sync,
)
from tests.integration.dcl.conftest import tenant_id

COUNTS = (
    "SELECT (SELECT count(*) FROM account) AS accounts, "
    "(SELECT count(*) FROM opportunity) AS opportunities, "
    "(SELECT md5(string_agg(account_id || '|' || coalesce(name, ''), ',' ORDER BY account_id)) "
    "FROM account) AS account_hash"
)


def node(settings: Settings, folder: Path) -> Settings:
    """The settings of another node: same metadata and landing zone, its own DuckDB folder."""
    return settings.model_copy(update={"dcl_dir": folder})


async def open_on(settings: Settings, db: Database, tid: uuid.UUID) -> DCLService:
    return DCLService.from_settings(settings, db, tid, LandingZone.from_settings(settings))


async def test_a_new_node_rebuilds_the_views_then_serves(
    api: httpx.AsyncClient,
    tenant_a: Tenant,
    settings: Settings,
    db: Database,
    tmp_path: Path,
) -> None:
    src = demo_source(tmp_path, "salesforce_accounts.csv", "salesforce_opportunities.csv")
    cid = await connect(api, tenant_a, src)
    await sync(api, tenant_a, cid)
    await map_stream(api, tenant_a, cid, "salesforce_accounts", "account", ACCOUNT_MAP)
    await map_stream(api, tenant_a, cid, "salesforce_opportunities", "opportunity", OPPORTUNITY_MAP)
    tid = await tenant_id(api, tenant_a)
    # mapped with `materialize: false` and never materialised: a new node builds nothing
    # either (its views are what the node that had the file served)
    service = await open_on(node(settings, tmp_path / "node-0"), db, tid)
    try:
        views = {v["name"]: v["rows"] for v in await service.list_views()}
        assert views["account"] == views["opportunity"] == 0
        assert service.caught_up is not None and service.caught_up["connections"] == 0
    finally:
        await service.close()
    await materialize(api, tenant_a, cid)
    truth = (await query(api, tenant_a, COUNTS))["rows"][0]
    assert truth[0] == LIVE_ACCOUNTS and truth[1] > 0

    # node B: no file for the tenant; its first read waits for a full rebuild
    b = node(settings, tmp_path / "node-b")
    assert not tenant_file(b.dcl_location, tid).exists()
    service = await open_on(b, db, tid)
    try:
        assert service.fresh and service.caught_up is None
        got = await service.query(COUNTS)
        assert got.rows == [truth]  # same rows, same content as the views on node A
        report = service.caught_up
        assert report is not None
        assert (report["fresh"], report["connections"], report["slices"]) == (
            True,
            1,
            {"full": 2},
        )
        assert tenant_file(b.dcl_location, tid).exists()
    finally:
        await service.close()

    # more rows land while node B's file sits unused: reopened, it catches up
    accounts = src / "salesforce_accounts.csv"
    columns = accounts.read_text().splitlines()[0].split(",")
    row = {c: "" for c in columns} | {
        "Id": "001NEW0000000001",
        "IsDeleted": "false",
        "Name": "Late Arrival Ltd",
        "LastModifiedDate": "2026-01-02T03:04:05.000Z",
    }
    with accounts.open("a") as f:
        f.write(",".join(row[c] for c in columns) + "\n")
    await sync(api, tenant_a, cid)
    newer = (await query(api, tenant_a, COUNTS))["rows"][0]
    assert newer[0] == LIVE_ACCOUNTS + 1
    async with db.tenant_session(tid) as s:
        summaries_before = {
            (m.stream, m.entity): m.materialized_at
            for m in await s.scalars(select(ViewMaterialization))
        }
    service = await open_on(b, db, tid)
    try:
        assert not service.fresh
        assert (await service.query(COUNTS)).rows == [newer]
        assert service.caught_up is not None
        # the re-read export is a complete snapshot that supersedes the file's old batch,
        # so the account slice is rebuilt (full), not appended to
        assert service.caught_up["slices"] == {"full": 1, "unchanged": 1}
    finally:
        await service.close()

    # a current file: nothing rebuilt, and the dashboard's summaries are left alone
    service = await open_on(b, db, tid)
    try:
        views = {v["name"]: v["rows"] for v in await service.list_views()}
        assert views["account"] == LIVE_ACCOUNTS + 1
        assert service.caught_up is not None
        assert service.caught_up["slices"] == {"unchanged": 2}
    finally:
        await service.close()
    async with db.tenant_session(tid) as s:
        summaries = await s.scalars(select(ViewMaterialization))
        after = {(m.stream, m.entity): m.materialized_at for m in summaries}
    assert (
        after["salesforce_opportunities", "opportunity"]
        == summaries_before["salesforce_opportunities", "opportunity"]
    )


async def test_views_that_cannot_be_caught_up_are_not_served_empty(
    settings: Settings, tmp_path: Path
) -> None:
    # the metadata store is out of reach: a new node's empty file is not the tenant's views
    unreachable = Database("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        service = await open_on(node(settings, tmp_path / "node-c"), unreachable, uuid.uuid4())
        try:
            with pytest.raises(DCLUnavailable, match="could not be brought up to date"):
                await service.list_views()
            assert service.caught_up is None  # the next read tries again
        finally:
            await service.close()
    finally:
        await unreachable.dispose()
