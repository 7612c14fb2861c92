"""Superseded batches (rows a complete snapshot says the source no longer has) are kept
for ``landing_superseded_keep_days``, then the next sync of their stream removes their
manifest rows and their files: landed storage does not grow with every full re-read."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from autonomos.aam.edge import EdgePolicies
from autonomos.aam.landing import LandingZone
from autonomos.aam.sync import SyncEngine
from autonomos.config import Settings
from autonomos.store.aam_models import LandedBatch
from autonomos.store.secrets import SecretBox
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.files_sync import make_connection, sync, tenant_id, write_csv


def engine(db: Database, settings: Settings, root: Path, keep_s: float) -> SyncEngine:
    return SyncEngine(
        db,
        LandingZone(root),
        SecretBox.from_settings(settings),
        EdgePolicies(settings),
        orphan_grace_s=0,
        superseded_keep_s=keep_s,
    )


def on_disk(path: str) -> bool:
    return Path(path).exists()


async def batches(db: Database, tid, cid) -> list[LandedBatch]:  # type: ignore[no-untyped-def]
    async with db.tenant_session(tid) as s:
        return list(await s.scalars(select(LandedBatch).where(LandedBatch.connection_id == cid)))


async def test_expired_superseded_batches_leave_manifest_and_storage(
    api: httpx.AsyncClient, db: Database, settings: Settings, tenant_a: Tenant, tmp_path: Path
) -> None:
    tid = await tenant_id(api, tenant_a)
    src = tmp_path / "src"
    src.mkdir()
    write_csv(src / "deals.csv", "id,amount", ["1,10", "2,20", "3,30"])
    cid = await make_connection(db, tid, src)
    landing = tmp_path / "landing"

    keeping = engine(db, settings, landing, keep_s=7 * 86400)
    assert (await sync(keeping, db, tid, cid)).status == "succeeded"
    (first,) = await batches(db, tid, cid)
    write_csv(src / "deals.csv", "id,amount", ["1,10", "2,25"])  # 3 deleted, 2 changed
    assert (await sync(keeping, db, tid, cid)).status == "succeeded"
    assert (await sync(keeping, db, tid, cid)).status == "succeeded"
    # within the retention: still in the manifest (marked) and on disk
    old = {b.id: b for b in await batches(db, tid, cid)}[first.id]
    assert old.superseded_at is not None and on_disk(old.path)

    expiring = engine(db, settings, landing, keep_s=0)
    assert (await sync(expiring, db, tid, cid)).status == "succeeded"
    left = await batches(db, tid, cid)
    assert first.id not in {b.id for b in left} and not on_disk(first.path)
    assert left and all(b.superseded_at is None and on_disk(b.path) for b in left)
    assert sum(b.rows for b in left) == 2  # the live rows are untouched
