"""A ~1 GB CSV with bad rows through the files connector and SyncEngine, in a child
process whose peak RSS is measured: a clear per-run result and bounded memory."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from autonomos.config import Settings
from autonomos.store.aam_models import LandedBatch, QuarantinedRecord, StreamState, SyncRun
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.files_sync import make_connection, tenant_id

pytestmark = pytest.mark.slow

TARGET_BYTES = 1_000_000_000
MAX_RSS_MB = 1_536
CHUNK_ROWS = 10_000
CLEAN_CHUNKS = 6  # the first batch (50,000 rows) is clean: types are inferred from it
HEADER = "id,name,amount,created_at,note,active\n"
PAD = "x" * 40
REPO = Path(__file__).resolve().parents[3]


@dataclass
class Expected:
    rows: int = 0  # rows the parser accepts
    bad: int = 0  # of which with a value that fails its type (quarantined)
    ragged: int = 0  # rows with the wrong column count (skipped by the parser)


def _chunk(dirty: bool) -> tuple[str, Expected]:
    lines: list[str] = []
    e = Expected()
    for i in range(CHUNK_ROWS):
        amount = f"{i % 9973}.25"
        created = f"2024-0{i % 9 + 1}-1{i % 10} 1{i % 10}:{i % 60:02d}:00"
        note = f'"note, with a comma {i} {PAD}"'
        if dirty and i % 1000 == 500:
            amount, e.bad = "n/a", e.bad + 1
        elif dirty and i % 2500 == 1234:
            created, e.bad = "not-a-date", e.bad + 1
        elif dirty and i % 5000 == 4321:
            lines.append(f"{i},a ragged row\n")
            e.ragged += 1
            continue
        elif i % 3000 == 17:
            note = f'"two\nlines {i}"'  # an embedded newline: a valid value
        active = "true" if i % 2 else "false"
        lines.append(f"{i},name {i} {PAD},{amount},{created},{note},{active}\n")
    e.rows = CHUNK_ROWS - e.ragged
    return "".join(lines), e


def write_big_csv(path: Path, target_bytes: int) -> Expected:
    """Repeated chunks (fast to write): a clean prefix, then chunks with bad rows."""
    clean, clean_e = _chunk(dirty=False)
    dirty, dirty_e = _chunk(dirty=True)
    total = Expected()
    with path.open("w", encoding="utf-8", newline="") as f:
        size = f.write(HEADER)
        n = 0
        while size < target_bytes:
            text, e = (clean, clean_e) if n < CLEAN_CHUNKS else (dirty, dirty_e)
            size += f.write(text)
            total.rows, total.bad, total.ragged = (
                total.rows + e.rows,
                total.bad + e.bad,
                total.ragged + e.ragged,
            )
            n += 1
    return total


async def test_one_gigabyte_file_with_bad_rows(
    api: httpx.AsyncClient,
    backend: str,
    settings: Settings,
    tenant_a: Tenant,
    tmp_path: Path,
) -> None:
    if backend != "sqlite":
        pytest.skip("the 1 GB file runs once, on SQLite: the data path is the same code")
    src, landing = tmp_path / "src", tmp_path / "landing"
    src.mkdir()
    db = Database(settings.app_database_url)
    try:
        expected = write_big_csv(src / "events.csv", TARGET_BYTES)
        assert expected.bad and expected.ragged
        tid = await tenant_id(api, tenant_a)
        cid = await make_connection(db, tid, src)
        async with db.tenant_session(tid) as s:
            run = SyncRun(connection_id=cid)
            s.add(run)
            await s.flush()
            run_id = run.id
        args = {
            "data_dir": str(settings.data_dir),
            "database_url": settings.database_url or "",
            "landing": str(landing),
            "tenant_id": str(tid),
            "run_id": str(run_id),
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.aam.big_file_sync",
            json.dumps(args),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 280)
        assert proc.returncode == 0, err.decode()[-3000:]
        report = json.loads(out.decode().strip().splitlines()[-1])
        async with db.tenant_session(tid) as s:
            done = await s.get(SyncRun, run_id)
            landed = await s.scalar(
                select(func.sum(LandedBatch.rows)).where(LandedBatch.connection_id == cid)
            )
            reasons = list(
                await s.scalars(
                    select(QuarantinedRecord.reason)
                    .where(QuarantinedRecord.sync_run_id == run_id)
                    .limit(2_000)
                )
            )
            state = await s.get(StreamState, (cid, "events"))
        assert done is not None and report["status"] == done.status == "succeeded", done
        # the per-run result: every accepted row is either landed or quarantined
        assert done.records_read == expected.rows
        assert done.records_quarantined == expected.bad
        assert done.records_written == expected.rows - expected.bad == landed
        assert done.error is None
        assert reasons and all(
            r.startswith(("cannot convert to number", "cannot convert to timestamp"))
            for r in reasons
        )
        # ragged rows are skipped by the parser and counted in the stream's state
        assert state is not None
        (file_state,) = state.state["files"].values()
        assert file_state["invalid_rows"] == expected.ragged and file_state["done"]
        # bounded memory: the whole run, interpreter and libraries included
        assert report["peak_rss_mb"] < MAX_RSS_MB, report
        print(
            f"1 GB sync: {expected.rows:,} rows read, {done.records_written:,} written, "
            f"{expected.bad:,} quarantined, {expected.ragged:,} ragged skipped; "
            f"peak RSS {report['peak_rss_mb']:.0f} MB, {report['wall_s']:.1f} s"
        )
    finally:
        await db.dispose()
        shutil.rmtree(src, ignore_errors=True)  # 1 GB: not kept among pytest's last runs
        shutil.rmtree(landing, ignore_errors=True)
