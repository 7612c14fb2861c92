"""Sync runs end to end on real files: land, re-sync, incremental, quarantine, drift."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from autonomos.store.aam_models import (
    Connection,
    DriftEventRow,
    LandedBatch,
    QuarantinedRecord,
    SchemaFingerprint,
    StreamState,
)
from autonomos.store.session import Database
from tests.helpers.files_sync import make_connection, sync, tenant_id, write_csv


async def landed_rows(db: Database, tid: uuid.UUID, cid: uuid.UUID, stream: str) -> int:
    async with db.tenant_session(tid) as s:
        total = await s.scalar(
            select(func.sum(LandedBatch.rows)).where(
                LandedBatch.connection_id == cid, LandedBatch.stream == stream
            )
        )
        return int(total or 0)


async def test_sync_lands_and_resync_is_idempotent(api, db, engine, tenant_a, tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_csv(
        src / "accounts.csv",
        "Id,AccountName,AnnualRevenue,CreatedDate",
        [f"{i},Acme {i},{i * 1000}.5,2024-01-0{i % 9 + 1}T10:00:00Z" for i in range(50)],
    )
    tid = await tenant_id(api, tenant_a)
    cid = await make_connection(db, tid, src, streams={"accounts": "accounts*.csv"})
    run = await sync(engine, db, tid, cid)
    assert run.status == "succeeded", run.error
    assert (run.records_read, run.records_written, run.records_quarantined) == (50, 50, 0)
    assert await landed_rows(db, tid, cid, "accounts") == 50
    async with db.tenant_session(tid) as s:
        paths = list(
            await s.scalars(select(LandedBatch.path).where(LandedBatch.connection_id == cid))
        )
        fp = await s.scalar(select(SchemaFingerprint).where(SchemaFingerprint.connection_id == cid))
    table = engine.landing.read(paths)
    assert table.column_names == ["id", "account_name", "annual_revenue", "created_date"]
    assert str(table.schema.field("created_date").type) == "timestamp[us, tz=UTC]"
    assert fp is not None and fp.status == "accepted"
    again = await sync(engine, db, tid, cid)
    assert again.status == "succeeded" and again.records_read == 0
    assert await landed_rows(db, tid, cid, "accounts") == 50
    # incremental: a new file of the same stream is picked up, the old one is not re-read
    write_csv(
        src / "accounts_2024.csv",
        "Id,AccountName,AnnualRevenue,CreatedDate",
        [f"{i},New {i},5,2024-03-01T00:00:00+02:00" for i in range(100, 105)],
    )
    third = await sync(engine, db, tid, cid)
    assert third.status == "succeeded" and third.records_read == 5
    assert await landed_rows(db, tid, cid, "accounts") == 55


async def test_bad_rows_are_quarantined_not_fatal(api, db, engine, tenant_a, tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    rows = [f"{i},{i}.5,2024-02-01" for i in range(20)] + [
        "21,not-a-number,2024-02-01",
        "22,3.5,garbage-date",
    ]
    write_csv(src / "orders.csv", "id,amount,day", rows)
    tid = await tenant_id(api, tenant_a)
    # types are inferred from the first batch; the bad values arrive in a later one
    cid = await make_connection(db, tid, src, batch_size=10)
    run = await sync(engine, db, tid, cid)
    assert run.status == "succeeded", run.error
    assert run.records_read == 22
    async with db.tenant_session(tid) as s:
        q = list(
            await s.scalars(select(QuarantinedRecord).where(QuarantinedRecord.connection_id == cid))
        )
    assert run.records_quarantined == len({r.record for r in q}) >= 1
    assert run.records_written + run.records_quarantined == 22
    assert all(r.reason and r.record for r in q)


async def test_drift_detected_and_policy_applied(api, db, engine, tenant_a, tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_csv(
        src / "contacts.csv", "id,email,age", [f"{i},u{i}@example.com,{20 + i}" for i in range(10)]
    )
    tid = await tenant_id(api, tenant_a)
    cid = await make_connection(db, tid, src, policy="block")
    assert (await sync(engine, db, tid, cid)).status == "succeeded"
    # the source drops `age` (breaking) and adds `phone`
    write_csv(
        src / "contacts.csv",
        "id,email,phone",
        [f"{i},u{i}@example.com,555-010{i}" for i in range(12)],
    )
    run = await sync(engine, db, tid, cid)
    assert run.status == "succeeded", run.error
    async with db.tenant_session(tid) as s:
        events = list(
            await s.scalars(select(DriftEventRow).where(DriftEventRow.connection_id == cid))
        )
        state = await s.get(StreamState, (cid, "contacts"))
    assert len(events) == 1 and events[0].severity == "breaking" and events[0].status == "open"
    kinds = {c["kind"] for c in events[0].changes}
    assert "removed" in kinds and "added" in kinds
    assert state is not None and state.paused  # block policy paused the stream
    assert await landed_rows(db, tid, cid, "contacts") == 10


async def test_unreachable_source_fails_clearly(api, db, engine, tenant_a) -> None:
    tid = await tenant_id(api, tenant_a)
    async with db.tenant_session(tid) as s:
        conn = Connection(
            name="pg-down",
            source_type="postgres",
            config={"url": "postgresql://u@127.0.0.1:1/db"},
            secrets=engine.box.encrypt({"password": "sup3r-secret-pw"}),
        )
        s.add(conn)
        await s.flush()
        cid = conn.id
    run = await sync(engine, db, tid, cid)
    assert run.status == "failed" and run.error_type == "transient"
    assert "sup3r-secret-pw" not in (run.error or "")
    assert run.finished_at is not None


async def test_orphan_landed_files_are_swept(api, db, engine, tenant_a, tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_csv(src / "orders.csv", "id,amount", [f"{i},{i}.5" for i in range(30)])
    tid = await tenant_id(api, tenant_a)
    cid = await make_connection(db, tid, src, batch_size=10, streams={"orders": "orders*.csv"})
    assert (await sync(engine, db, tid, cid)).status == "succeeded"
    async with db.tenant_session(tid) as s:
        committed = set(
            await s.scalars(select(LandedBatch.path).where(LandedBatch.connection_id == cid))
        )
    assert len(committed) == 3
    # what a crash between the landing write and the commit leaves behind
    batch = engine.landing.read(sorted(committed)).slice(0, 5).to_batches()[0]
    old = Path(engine.landing.write(tid, cid, "orders", batch))
    old_tmp = old.with_name("crashed-mid-write.tmp")
    old_tmp.write_bytes(b"PAR1 half a file")
    young = Path(engine.landing.write(tid, cid, "orders", batch))  # a writer still in flight
    two_hours_ago = time.time() - 7200
    for p in (old, old_tmp, *map(Path, committed)):  # committed files are old too
        os.utime(p, (two_hours_ago, two_hours_ago))
    write_csv(src / "orders_2.csv", "id,amount", [f"{i},1.0" for i in range(100, 104)])
    run = await sync(engine, db, tid, cid)
    assert run.status == "succeeded" and run.records_written == 4
    left = set(engine.landing.list_files(tid, cid, "orders"))
    assert str(old) not in left and str(old_tmp) not in left
    assert str(young) in left  # inside the grace period: never touched
    assert committed < left
    async with db.tenant_session(tid) as s:
        now_committed = set(
            await s.scalars(select(LandedBatch.path).where(LandedBatch.connection_id == cid))
        )
    assert left == now_committed | {str(young)}
    assert engine.landing.read(sorted(now_committed)).num_rows == 34
