"""A sync lands on S3-compatible storage and the unified views are built from it.

The "node" here has its own data dir and an S3 landing URL: nothing lands on its local
disk, the manifest holds URLs, the DCL reads the objects through Arrow (no DuckDB
extension), an uncommitted object left by a crash is swept by the next sync, and the
views follow both syncs with exact counts and content. Runs on SQLite and Postgres.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from sqlalchemy import select

from autonomos.aam.edge import EdgePolicies
from autonomos.aam.landing import LandingZone
from autonomos.aam.sync import SyncEngine
from autonomos.config import Settings
from autonomos.dcl import registry
from autonomos.dcl.service import DCLService
from autonomos.store.aam_models import Connection, LandedBatch, SyncRun
from autonomos.store.secrets import SecretBox
from autonomos.store.session import Database
from tests.conftest import Tenant, free_port, make_settings
from tests.integration.conftest import S3Server

STREAM = "accounts"


def write_accounts(path: Path, ids: range) -> None:
    rows = "".join(f"A{i},Company {i},{'true' if i % 10 == 0 else 'false'}\n" for i in ids)
    path.write_text("Id,Name,IsDeleted\n" + rows)


async def run_sync(engine: SyncEngine, db: Database, tid: uuid.UUID, cid: uuid.UUID) -> SyncRun:
    async with db.tenant_session(tid) as s:
        run = SyncRun(connection_id=cid)
        s.add(run)
        await s.flush()
        run_id = run.id
    await engine.run(tid, run_id)
    async with db.tenant_session(tid) as s:
        done = await s.get(SyncRun, run_id)
    assert done is not None
    return done


async def manifest(db: Database, tid: uuid.UUID, cid: uuid.UUID) -> set[str]:
    async with db.tenant_session(tid) as s:
        paths = await s.scalars(select(LandedBatch.path).where(LandedBatch.connection_id == cid))
        return set(paths)


async def test_sync_lands_on_s3_and_views_read_it(
    api: httpx.AsyncClient,
    tenant_a: Tenant,
    settings: Settings,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    bucket = s3_server.new_bucket()
    node = make_settings(
        tmp_path / "node",
        database_url=settings.app_database_url,
        migration_database_url=settings.owner_database_url,
        **s3_server.landing_settings(bucket),
    )
    tid = uuid.UUID(
        (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).json()["tenant_id"]
    )
    src = tmp_path / "src"
    src.mkdir()
    write_accounts(src / "accounts.csv", range(120))
    db = Database(node.app_database_url)
    dcl: DCLService | None = None
    try:
        async with db.tenant_session(tid) as s:
            conn = Connection(
                name=f"s3-{uuid.uuid4().hex[:6]}",
                source_type="files",
                config={"path": str(src), "batch_size": 50, "streams": {STREAM: "accounts*.csv"}},
                drift_policy="auto",
            )
            s.add(conn)
            await s.flush()
            cid = conn.id
        zone = LandingZone.from_settings(node)
        engine = SyncEngine(
            db, zone, SecretBox.from_settings(node), EdgePolicies(node), orphan_grace_s=0
        )

        run = await run_sync(engine, db, tid, cid)
        assert run.status == "succeeded" and run.records_written == 120, run.error
        landed = await manifest(db, tid, cid)
        assert len(landed) == 3  # 120 rows in batches of 50
        assert all(p.startswith(f"s3://{bucket}/zone/{tid}/{cid}/{STREAM}/") for p in landed)
        assert {f"s3://{bucket}/{k}" for k in s3_server.keys(bucket)} == landed
        assert not (node.data_dir / "landing").exists()  # nothing on the node's own disk

        async with db.tenant_session(tid) as s:
            for source, target in (
                ("id", "account_id"),
                ("name", "name"),
                ("is_deleted", "is_deleted"),
            ):
                await registry.set_mapping(
                    s,
                    connection_id=cid,
                    stream=STREAM,
                    source_field=source,
                    entity="account",
                    field=target,
                    decided_by="test",
                )
        dcl = DCLService.from_settings(node, db, tid, zone)
        report = await dcl.materialize(cid)
        (first,) = report["slices"]
        assert (first["entity"], first["mode"], first["rows"]) == ("account", "full", 108)
        assert first["missing_files"] == 0

        # a crash between landing and commit leaves an uncommitted object behind...
        orphan = zone.write(tid, cid, STREAM, zone.read(sorted(landed)).to_batches()[0])
        assert orphan in {f"s3://{bucket}/{k}" for k in s3_server.keys(bucket)}
        # ...which the stream's next sync removes, while landing only the new rows
        write_accounts(src / "accounts_2.csv", range(120, 125))
        run = await run_sync(engine, db, tid, cid)
        assert run.status == "succeeded" and run.records_written == 5, run.error
        now = await manifest(db, tid, cid)
        assert landed < now and orphan not in now
        assert {f"s3://{bucket}/{k}" for k in s3_server.keys(bucket)} == now

        report = await dcl.materialize(cid)
        (second,) = report["slices"]
        assert (second["mode"], second["rows"], second["upserted"]) == ("incremental", 112, 4)
        got = await dcl.query(
            "SELECT count(*) AS n, count(DISTINCT account_id) AS ids, min(name) AS first, "
            "bool_or(account_id = 'A120') AS deleted_kept, "
            "bool_or(account_id = 'A124') AS newest FROM account"
        )
        assert got.rows == [[112, 112, "Company 1", False, True]], got
    finally:
        if dcl is not None:
            await dcl.close()
        await db.dispose()


async def test_an_unreachable_landing_store_fails_the_run_with_the_reason(
    api: httpx.AsyncClient,
    tenant_a: Tenant,
    settings: Settings,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    down = {
        **s3_server.landing_settings("gone"),
        "landing_endpoint_url": f"http://127.0.0.1:{free_port()}",
    }
    node = make_settings(
        tmp_path / "node",
        database_url=settings.app_database_url,
        migration_database_url=settings.owner_database_url,
        **down,
    )
    me = await api.get("/api/v1/auth/me", headers=tenant_a.headers)
    tid = uuid.UUID(me.json()["tenant_id"])
    src = tmp_path / "src"
    src.mkdir()
    write_accounts(src / "accounts.csv", range(10))
    db = Database(node.app_database_url)
    try:
        async with db.tenant_session(tid) as s:
            conn = Connection(
                name=f"s3-{uuid.uuid4().hex[:6]}",
                source_type="files",
                config={"path": str(src)},
                drift_policy="auto",
            )
            s.add(conn)
            await s.flush()
            cid = conn.id
        engine = SyncEngine(
            db,
            LandingZone.from_settings(node),
            SecretBox.from_settings(node),
            EdgePolicies(node),
            retry_window_s=1.0,  # retried for a second, then failed
            backoff_s=0.1,
        )
        run = await run_sync(engine, db, tid, cid)
        assert (run.status, run.error_type) == ("failed", "transient")
        assert run.error and "landing" in run.error and "s3://gone/zone" in run.error
        assert "(retried for" in run.error
        assert s3_server.secret_key not in run.error
        assert await manifest(db, tid, cid) == set()  # nothing committed
    finally:
        await db.dispose()
