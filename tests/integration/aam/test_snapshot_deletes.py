"""Deletes in complete snapshots, in one process (inline executors), as a user meets them.

A files export read again in full is a complete snapshot of its stream: a row removed
from the file, or a file removed from a partitioned stream, leaves the unified views and
the entity-resolution tables after the next successful sync. An incremental stream (a
cursor field) never deletes, and a sync that fails deletes nothing. The manifest keeps
the superseded batches, marked with the run that superseded them.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from autonomos.store.aam_models import LandedBatch
from autonomos.store.dcl_models import ViewRefresh
from tests.conftest import Tenant
from tests.helpers.api import drain
from tests.helpers.views import MOCK, map_stream, materialize, query
from tests.integration.dcl.conftest import tenant_id

STREAM = "salesforce_accounts"
FIELDS = {
    "Id": ("account_id", None),
    "Name": ("name", None),
    "Website": ("domain", "domain"),
    "IsDeleted": ("is_deleted", None),
    "LastModifiedDate": ("updated_at", None),
}


def export_rows() -> tuple[list[str], list[dict[str, str]]]:
    with (MOCK / "salesforce_accounts.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or ()), list(reader)


def live_ids(rows: list[dict[str, str]]) -> set[str]:
    """The ids the account view holds for these export rows (soft-deleted ones leave it)."""
    return {r["Id"] for r in rows if r["IsDeleted"] == "false"}


def write_export(path: Path, names: list[str], rows: list[dict[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue())


async def connect(api: httpx.AsyncClient, t: Tenant, path: Path, **config: Any) -> str:
    r = await api.post(
        "/api/v1/aam/connections",
        headers=t.headers,
        json={
            "name": f"crm-{uuid.uuid4().hex[:6]}",
            "source_type": "files",
            "config": {"path": str(path), "primary_key": {STREAM: ["Id"]}, **config},
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def run_sync(api: httpx.AsyncClient, t: Tenant, cid: str) -> dict[str, Any]:
    """Sync the connection to its end; the finished run (whatever its status)."""
    r = await api.post(f"/api/v1/aam/connections/{cid}/sync", headers=t.headers)
    assert r.status_code == 202, r.text
    await drain(api)
    run = (await api.get(f"/api/v1/aam/runs/{r.json()['run_id']}", headers=t.headers)).json()
    assert run["status"] in ("succeeded", "failed"), run
    return dict(run)


async def accounts(api: httpx.AsyncClient, t: Tenant) -> set[str]:
    rows = (await query(api, t, "SELECT account_id FROM account", limit=10_000))["rows"]
    return {r[0] for r in rows}


async def assert_resolution_consistent(api: httpx.AsyncClient, t: Tenant) -> None:
    """Every live account is a member of exactly one unified account, and no unified
    account holds a member the account view no longer has."""
    live = (
        await query(
            api,
            t,
            "SELECT _source_key FROM account WHERE NOT coalesce(is_deleted, false)",
            limit=10_000,
        )
    )["rows"]
    members = (
        await query(
            api,
            t,
            "SELECT m.key FROM (SELECT unnest(members) AS m FROM unified_account)",
            limit=10_000,
        )
    )["rows"]
    assert sorted(str(r[0]) for r in members) == sorted(str(r[0]) for r in live)


async def manifest(api: httpx.AsyncClient, t: Tenant, cid: str) -> list[LandedBatch]:
    db = api.runtime.db  # type: ignore[attr-defined]
    async with db.tenant_session(await tenant_id(api, t)) as s:
        rows = await s.scalars(
            select(LandedBatch).where(LandedBatch.connection_id == uuid.UUID(cid))
        )
        return list(rows)


async def refreshes_of(api: httpx.AsyncClient, t: Tenant, run_id: str) -> list[ViewRefresh]:
    db = api.runtime.db  # type: ignore[attr-defined]
    async with db.tenant_session(await tenant_id(api, t)) as s:
        return list(await s.scalars(select(ViewRefresh).where(ViewRefresh.subject_id == run_id)))


async def mapped(api: httpx.AsyncClient, t: Tenant, cid: str) -> None:
    await map_stream(api, t, cid, STREAM, "account", FIELDS)
    await materialize(api, t, cid)


async def test_rows_removed_from_a_full_export_leave_the_views(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    names, rows = export_rows()
    export = tmp_path / "crm" / f"{STREAM}.csv"
    write_export(export, names, rows)
    cid = await connect(api, tenant_a, export.parent)
    first = await run_sync(api, tenant_a, cid)
    assert first["status"] == "succeeded"
    await mapped(api, tenant_a, cid)
    before = await accounts(api, tenant_a)
    assert before == live_ids(rows) and len(before) == 197
    await assert_resolution_consistent(api, tenant_a)

    live = [r for r in rows if r["IsDeleted"] == "false"]
    gone = {live[0]["Id"], live[57]["Id"], live[-1]["Id"]}
    write_export(export, names, [r for r in rows if r["Id"] not in gone])
    second = await run_sync(api, tenant_a, cid)
    assert second["status"] == "succeeded"

    assert await accounts(api, tenant_a) == before - gone
    await assert_resolution_consistent(api, tenant_a)
    batches = await manifest(api, tenant_a, cid)
    old = [b for b in batches if str(b.sync_run_id) == first["id"]]
    assert old and all(str(b.superseded_by) == second["id"] for b in old)
    assert all(b.superseded_at is not None for b in old)
    new = [b for b in batches if str(b.sync_run_id) == second["id"]]
    assert new and all(b.superseded_at is None and b.part == str(export) for b in new)
    # the run's refresh, through the after-sync pipeline, rebuilt the slice without them
    (refresh,) = await refreshes_of(api, tenant_a, second["id"])
    assert refresh.status == "succeeded" and refresh.reason == "sync"
    assert [(s["entity"], s["mode"]) for s in refresh.result["slices"]] == [("account", "full")]
    assert refresh.result["resolution"]["rows"]["unified_account"] > 0

    # replaying the same export changes nothing and supersedes nothing more
    third = await run_sync(api, tenant_a, cid)
    assert third["status"] == "succeeded"
    assert await accounts(api, tenant_a) == before - gone
    again = [b for b in await manifest(api, tenant_a, cid) if str(b.superseded_by) == third["id"]]
    assert again == []


async def test_a_file_removed_from_a_partitioned_stream_takes_its_rows_along(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    names, rows = export_rows()
    folder = tmp_path / "crm" / STREAM  # one stream, one file per region
    write_export(folder / "emea.csv", names, rows[:120])
    write_export(folder / "amer.csv", names, rows[120:])
    cid = await connect(api, tenant_a, folder.parent)
    assert (await run_sync(api, tenant_a, cid))["status"] == "succeeded"
    await mapped(api, tenant_a, cid)
    assert await accounts(api, tenant_a) == live_ids(rows)

    (folder / "amer.csv").unlink()  # nothing new to read: only the snapshot says so
    run = await run_sync(api, tenant_a, cid)
    assert run["status"] == "succeeded" and run["records_written"] == 0
    assert await accounts(api, tenant_a) == live_ids(rows[:120])
    await assert_resolution_consistent(api, tenant_a)

    write_export(folder / "emea.csv", names, [])  # only the header left: an empty stream
    assert (await run_sync(api, tenant_a, cid))["status"] == "succeeded"
    assert await accounts(api, tenant_a) == set()
    assert all(b.superseded_at is not None for b in await manifest(api, tenant_a, cid))


async def test_an_incremental_stream_never_deletes(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    names, rows = export_rows()
    export = tmp_path / "crm" / f"{STREAM}.csv"
    write_export(export, names, rows)
    cid = await connect(api, tenant_a, export.parent, cursor_field={STREAM: "LastModifiedDate"})
    assert (await run_sync(api, tenant_a, cid))["status"] == "succeeded"
    await mapped(api, tenant_a, cid)
    before = await accounts(api, tenant_a)

    # the export now holds only what changed since: one row, modified later
    changed = dict(rows[3], Name="Renamed Co", LastModifiedDate="2030-01-01T00:00:00.000Z")
    write_export(export, names, [changed])
    run = await run_sync(api, tenant_a, cid)
    assert run["status"] == "succeeded" and run["records_written"] == 1
    assert await accounts(api, tenant_a) == before
    (name,) = (
        await query(api, tenant_a, f"SELECT name FROM account WHERE account_id = '{rows[3]['Id']}'")
    )["rows"][0]
    assert name == "Renamed Co"
    assert all(b.superseded_at is None for b in await manifest(api, tenant_a, cid))


async def test_a_failed_sync_deletes_nothing(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    names, rows = export_rows()
    folder = tmp_path / "crm" / STREAM
    write_export(folder / "emea.csv", names, rows[:120])
    write_export(folder / "amer.csv", names, rows[120:])
    cid = await connect(api, tenant_a, folder.parent)
    assert (await run_sync(api, tenant_a, cid))["status"] == "succeeded"
    await mapped(api, tenant_a, cid)
    before = await accounts(api, tenant_a)

    # a row leaves one file while another file of the stream cannot be read: the run
    # lands what it read, then fails; its snapshot is incomplete and deletes nothing
    gone = sorted(live_ids(rows[:120]))[5]
    write_export(folder / "emea.csv", names, [r for r in rows[:120] if r["Id"] != gone])
    (folder / "apac.parquet").write_bytes(b"PAR1 not parquet at all")
    run = await run_sync(api, tenant_a, cid)
    assert run["status"] == "failed" and run["records_written"] == 119, run
    assert await accounts(api, tenant_a) == before
    assert all(b.superseded_at is None for b in await manifest(api, tenant_a, cid))

    # once the stream reads whole again, the committed snapshot removes the row
    (folder / "apac.parquet").unlink()
    run = await run_sync(api, tenant_a, cid)
    assert run["status"] == "succeeded" and run["records_written"] == 0, run
    assert await accounts(api, tenant_a) == before - {gone}
    await assert_resolution_consistent(api, tenant_a)


async def test_a_view_mapped_after_the_snapshot_reads_only_live_batches(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    names, rows = export_rows()
    export = tmp_path / "crm" / f"{STREAM}.csv"
    write_export(export, names, rows)
    cid = await connect(api, tenant_a, export.parent)
    assert (await run_sync(api, tenant_a, cid))["status"] == "succeeded"
    write_export(export, names, rows[:50])
    assert (await run_sync(api, tenant_a, cid))["status"] == "succeeded"
    await mapped(api, tenant_a, cid)
    assert await accounts(api, tenant_a) == live_ids(rows[:50])


async def test_a_run_that_fails_on_another_stream_applies_no_snapshot(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    names, rows = export_rows()
    export = tmp_path / "crm" / f"{STREAM}.csv"
    write_export(export, names, rows)
    cid = await connect(api, tenant_a, export.parent)
    assert (await run_sync(api, tenant_a, cid))["status"] == "succeeded"
    await mapped(api, tenant_a, cid)
    before = await accounts(api, tenant_a)

    # the accounts stream is read whole (its snapshot is complete), then the next
    # stream fails: only a succeeded run's snapshots count
    gone = sorted(live_ids(rows))[9]
    write_export(export, names, [r for r in rows if r["Id"] != gone])
    (tmp_path / "crm" / "zz_ledger").mkdir()
    (tmp_path / "crm" / "zz_ledger" / "2026.parquet").write_bytes(b"PAR1 broken")
    run = await run_sync(api, tenant_a, cid)
    assert run["status"] == "failed" and run["records_written"] == 199, run
    assert await accounts(api, tenant_a) == before
    assert all(b.superseded_at is None for b in await manifest(api, tenant_a, cid))

    shutil.rmtree(tmp_path / "crm" / "zz_ledger")
    assert (await run_sync(api, tenant_a, cid))["status"] == "succeeded"
    assert await accounts(api, tenant_a) == before - {gone}


async def test_a_read_that_quarantined_records_deletes_nothing(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    """A record that fails normalisation is not a deleted one: the snapshot waits."""
    folder = tmp_path / "ledger" / "entries"

    def write(name: str, docs: list[dict[str, Any]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("".join(json.dumps(d) + "\n" for d in docs))

    write("a.jsonl", [{"id": i, "amount": 10 * i} for i in range(1, 6)])
    write("b.jsonl", [{"id": 6, "amount": 60}])
    cid = await connect(api, tenant_a, folder.parent)
    first = await run_sync(api, tenant_a, cid)
    assert first["status"] == "succeeded" and first["records_quarantined"] == 0

    write("a.jsonl", [{"id": i, "amount": 10 * i} for i in range(1, 5)])  # id 5 removed
    write("b.jsonl", [{"id": 6, "amount": "sixty"}])  # cannot be an integer
    run = await run_sync(api, tenant_a, cid)
    assert run["status"] == "succeeded" and run["records_quarantined"] == 1, run
    assert all(b.superseded_at is None for b in await manifest(api, tenant_a, cid))

    write("b.jsonl", [{"id": 6, "amount": 61}])
    run = await run_sync(api, tenant_a, cid)
    assert run["status"] == "succeeded" and run["records_quarantined"] == 0, run
    live = [b for b in await manifest(api, tenant_a, cid) if b.superseded_at is None]
    assert first["id"] not in {str(b.sync_run_id) for b in live}
    assert sum(b.rows for b in live) == 5  # ids 1-4 of a.jsonl, id 6 of b.jsonl
