"""The batch mapping core (no Ray): registry writes, idempotency, people's decisions kept."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from autonomos.aam.repair.safe_mode import SafeMode
from autonomos.dcl import registry
from autonomos.dcl.refresh import ViewRefresher
from autonomos.jobs.mapping import run_batch_map, sample_values
from autonomos.matching.matcher import Matcher
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.jobs import stream_mappings, synced_connection, tenant_uuid


async def test_batch_map_writes_once_and_keeps_peoples_decisions(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    db: Database = api.runtime.db  # type: ignore[attr-defined]
    cid = await synced_connection(api, tenant_a, tmp_path)
    tid = await tenant_uuid(api, tenant_a)
    async with db.tenant_session(tid) as s:  # a person mapped this one already
        await registry.set_mapping(
            s,
            connection_id=uuid.UUID(cid),
            stream="accounts",
            source_field="industry",
            entity="account",
            field="industry",
            decided_by="user:ada",
        )
    calls: list[tuple[uuid.UUID, list[str] | None, bool]] = []

    class Views:  # the DCL port the refresher uses: records what it is asked
        async def materialize(
            self,
            tenant_id: uuid.UUID,
            connection_id: uuid.UUID,
            streams: list[str] | None = None,
            *,
            full: bool = False,
        ) -> dict[str, Any]:
            calls.append((connection_id, streams, full))
            return {"rows": 2}

    refresher = ViewRefresher(db, Views())

    matcher = Matcher(tenant_id=tid)
    report = await run_batch_map(
        db,
        tid,
        [uuid.UUID(cid)],
        matcher,
        safe_mode=SafeMode(threshold=0.5),
        refresher=refresher,
    )
    assert report.ok, report
    (stream,) = report.streams
    assert stream.stream == "accounts" and stream.entity == "account"
    assert stream.kept == 1 and stream.active >= 3 and stream.error is None
    assert calls == [(uuid.UUID(cid), None, True)]  # mappings changed: full rebuild
    assert report.materialized == {cid: {"rows": 2}}
    rows = {r.source_field: r for r in await stream_mappings(api, tid, cid)}
    assert rows["industry"].decided_by == "user:ada"
    assert (rows["name"].entity, rows["name"].field, rows["name"].status) == (
        "account",
        "name",
        "active",
    )
    assert rows["name"].decided_by == "batch_map"

    again = await run_batch_map(
        db,
        tid,
        [uuid.UUID(cid)],
        matcher,
        safe_mode=SafeMode(threshold=0.5),
        refresher=refresher,
    )
    assert calls[1] == (uuid.UUID(cid), ["accounts"], False)  # only new batches, if any
    (second,) = again.streams
    assert second.active == second.proposed == 0
    assert second.unchanged == stream.active + stream.proposed
    assert {(r.id, r.version) for r in await stream_mappings(api, tid, cid)} == {
        (r.id, r.version) for r in rows.values()
    }

    # a stricter threshold turns this run's own suggestions into proposals, as new versions
    strict = await run_batch_map(
        db, tid, [uuid.UUID(cid)], matcher, safe_mode=SafeMode(auto_apply=False)
    )
    assert strict.streams[0].active == 0 and strict.streams[0].proposed == stream.active
    after = {r.source_field: r for r in await stream_mappings(api, tid, cid)}
    assert after["name"].status == "proposed" and after["name"].version == 2
    assert after["industry"].status == "active"  # still the person's


async def test_batch_map_over_a_whole_tenant_and_samples(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    db: Database = api.runtime.db  # type: ignore[attr-defined]
    cids = [await synced_connection(api, tenant_a, tmp_path) for _ in range(2)]
    tid = await tenant_uuid(api, tenant_a)
    report = await run_batch_map(db, tid, [], Matcher(tenant_id=tid))
    assert sorted(s.connection_id for s in report.streams) == sorted(cids)
    async with db.tenant_session(tid) as s:
        from autonomos.jobs.mapping import newest_batches

        batches = await newest_batches(s, [uuid.UUID(c) for c in cids])
    samples = sample_values(next(iter(batches.values())))
    assert set(samples["name"]) == {"Acme Inc", "Globex LLC"}
    assert sample_values(str(tmp_path / "missing.parquet")) == {}
