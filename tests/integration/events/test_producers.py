"""The platform's events, recorded by the changes they report (inline deployment).

A user's path through the API — connect, sync, map, drift, repairs decided by Safe Mode
and by a person — leaves its events in the tenant's log, each with its subject's ids and
a small payload; a change that rolls back leaves none (one producer of each area).
Jobs: tests/integration/jobs/test_jobs.py; agent runs: tests/integration/agents; in Ray
actors: test_ray_producers.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from autonomos.aam.repair import decisions, store
from autonomos.dcl.changes import Editor, MappingChanges
from autonomos.dcl.refresh import ViewRefresher
from autonomos.events.log import EventLog, installed, record
from autonomos.store.repair_models import RepairProposalRow
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.drift import REPAIR, drifted_export
from tests.helpers.events import last_id, numbered, one
from tests.helpers.views import MOCK, connect, map_stream, sync


async def _tid(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    return uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])


def _db(api: httpx.AsyncClient) -> Database:
    db: Database = api.runtime.db  # type: ignore[attr-defined]
    return db


async def _accounts(api: httpx.AsyncClient, t: Tenant, tmp_path: Path) -> tuple[str, Path, str]:
    src = tmp_path / "crm"
    src.mkdir()
    original = (MOCK / "salesforce_accounts.csv").read_text()
    (src / "salesforce_accounts.csv").write_text(original)
    return await connect(api, t, src), src, original


async def test_a_users_path_leaves_its_events(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    tid, db = await _tid(api, tenant_a), _db(api)
    start = await last_id(db, tid)
    cid, src, original = await _accounts(api, tenant_a, tmp_path)
    await sync(api, tenant_a, cid)
    events = await numbered(db, tid, after=start)
    run = one(events, "sync.succeeded", connection_id=cid)
    run_id = run.subject["run_id"]
    assert [e.type for e in events] == [
        "sync.queued",
        "sync.started",
        "sync.succeeded",
        "views.refreshed",
    ]
    assert all(e.subject["connection_id"] == cid for e in events)
    assert [e.subject["run_id"] for e in events] == [run_id] * 4  # the refresh's cause
    assert events[0].payload == {"streams": None}
    assert run.payload["written"] == run.payload["read"] == 200 and run.payload["error"] is None
    assert events[3].payload["reason"] == "sync" and events[3].subject["refresh_id"]
    assert [e.id for e in events] == list(range(start + 1, start + 5))  # no gaps, in order

    # a person maps a field (and its views follow): mapping.changed, then views.refreshed
    mark = events[-1].id
    r = await api.put(
        "/api/v1/dcl/mappings",
        headers=tenant_a.headers,
        json={
            "connection_id": cid,
            "stream": "salesforce_accounts",
            "source_field": "Id",
            "entity": "account",
            "field": "account_id",
        },
    )
    assert r.status_code == 200, r.text
    mapping_id = r.json()["mapping"]["id"]
    # (the agents reading the rebuilt account view are queued too: agent.run.*)
    changed, refreshed = await numbered(db, tid, after=mark, types="mapping.*,views.*")
    assert (changed.type, changed.subject) == (
        "mapping.changed",
        {"connection_id": cid, "stream": "salesforce_accounts", "mapping_id": mapping_id},
    )
    assert changed.payload["action"] == "set" and changed.payload["target"] == "account.account_id"
    assert changed.payload["source_field"] == "Id" and changed.payload["version"] == 1
    assert refreshed.type == "views.refreshed" and refreshed.subject["mapping_id"] == mapping_id
    assert refreshed.payload["entities"] == ["account"] and refreshed.payload["error"] is None
    r = await api.post(
        "/api/v1/dcl/mappings/retire",
        headers=tenant_a.headers,
        json={
            "connection_id": cid,
            "stream": "salesforce_accounts",
            "source_field": "Id",
            "materialize": False,
        },
    )
    assert r.status_code == 200, r.text
    (retired,) = await numbered(db, tid, after=refreshed.id, types="mapping.*")
    assert retired.type == "mapping.changed" and retired.payload["action"] == "retire"
    assert retired.payload["status"] == "retired" and retired.payload["version"] == 2
    assert retired.subject["mapping_id"] == r.json()["mapping"]["id"] != mapping_id

    # drift: detected, repairs proposed, the confident ones applied by Safe Mode
    await map_stream(
        api,
        tenant_a,
        cid,
        "salesforce_accounts",
        "account",
        {
            "Name": ("name", None),
            "Phone": ("phone", None),
            "AnnualRevenue": ("annual_revenue", None),
        },
    )
    (src / "salesforce_accounts.csv").write_text(drifted_export(original))
    mark = await last_id(db, tid)
    await sync(api, tenant_a, cid)
    events = await numbered(db, tid, after=mark)
    drift = one(events, "drift.detected", connection_id=cid, stream="salesforce_accounts")
    assert drift.payload["changes"] >= 2 and drift.payload["severity"]
    proposed = [e for e in events if e.type == "repair.proposed"]
    listed = (
        await api.get(
            f"{REPAIR}/proposals", headers=tenant_a.headers, params={"connection_id": cid}
        )
    ).json()["proposals"]
    assert sorted(e.subject["proposal_id"] for e in proposed) == sorted(p["id"] for p in listed)
    assert {e.subject["drift_id"] for e in proposed} == {drift.subject["drift_id"]}
    by_id = {p["id"]: p for p in listed}
    for e in proposed:
        assert e.payload["kind"] == by_id[e.subject["proposal_id"]]["kind"]
    applied = {e.subject["proposal_id"] for e in events if e.type == "repair.applied"}
    assert applied == {p["id"] for p in listed if p["status"] == "applied"}
    for e in events:
        if e.type == "repair.applied":
            assert e.payload["decided_by"] == decisions.AGENT and e.payload["edited"] is False

    # a person decides the rest: approve, reject, roll back
    pending = [p for p in listed if p["status"] == "pending"]
    mark = await last_id(db, tid)
    decided: list[tuple[str, str]] = []
    for p in pending:
        action = "reject" if p["kind"] == "new_mapping" else "approve"
        r = await api.post(f"{REPAIR}/proposals/{p['id']}/{action}", headers=tenant_a.headers)
        if r.status_code == 409:  # depends on a decision made since
            continue
        assert r.status_code == 200, r.text
        decided.append((p["id"], "repair.rejected" if action == "reject" else "repair.approved"))
    some_applied = sorted(applied) or [i for i, kind in decided if kind == "repair.approved"]
    assert some_applied, listed
    r = await api.post(f"{REPAIR}/proposals/{some_applied[0]}/rollback", headers=tenant_a.headers)
    assert r.status_code == 200, r.text
    decided.append((some_applied[0], "repair.rolled_back"))
    events = await numbered(db, tid, after=mark, types="repair.*")
    assert [(e.subject["proposal_id"], e.type) for e in events] == decided
    user = (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).json()["id"]
    assert all(e.payload["decided_by"] == user for e in events)


async def test_changes_that_roll_back_report_nothing(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    tid, db = await _tid(api, tenant_a), _db(api)
    runtime: Any = api.runtime  # type: ignore[attr-defined]
    cid, _, _ = await _accounts(api, tenant_a, tmp_path)
    connection_id = uuid.UUID(cid)
    start = await last_id(db, tid)

    class Boom(Exception):
        pass

    # aam: a sync run queued in a transaction that fails
    with pytest.raises(Boom):
        async with db.tenant_session(tid) as s:
            await runtime.connections.start_sync(s, connection_id, None)
            raise Boom

    # dcl: a mapping change whose refresh request fails after the write and its event
    class NoRefresh(ViewRefresher):
        @staticmethod
        async def request(*args: Any, **kwargs: Any) -> Any:
            raise Boom

    changes = MappingChanges(db, NoRefresh(db, runtime.dcl))
    with pytest.raises(Boom):
        await changes.set(
            tid,
            Editor(uuid.uuid4()),
            connection_id=connection_id,
            stream="salesforce_accounts",
            source_field="Name",
            entity="account",
            field="name",
        )
    # repair: a person's decision in a transaction that fails
    async with db.tenant_session(tid) as s:
        s.add(
            RepairProposalRow(
                connection_id=connection_id,
                stream="salesforce_accounts",
                kind="new_mapping",
                status="pending",
                source_field="Website",
                target="account.website",
                confidence=0.5,
                destructive=False,
                reason="test",
                evidence={},
                applied=[],
                dedupe_key=uuid.uuid4().hex,
            )
        )
    async with db.tenant_session(tid) as s:
        (row,) = (await store.list_proposals(s, connection_id=connection_id)).items
    proposal_id = row.id
    with pytest.raises(Boom):
        async with db.tenant_session(tid) as s:
            row = await store.get_proposal(s, proposal_id, for_update=True)
            await decisions.reject(s, row, decisions.Decider.user(uuid.uuid4()))
            raise Boom
    assert await numbered(db, tid, after=start) == []

    # the same changes committed are reported
    async with db.tenant_session(tid) as s:
        run = await runtime.connections.start_sync(s, connection_id, None)
        await runtime.connections.cancel(s, run.id)
    async with db.tenant_session(tid) as s:
        row = await store.get_proposal(s, proposal_id, for_update=True)
        await decisions.reject(s, row, decisions.Decider.user(uuid.uuid4()), "no")
    events = await numbered(db, tid, after=start)
    ids = {"connection_id": cid, "run_id": str(run.id)}
    proposal = {"connection_id": cid, "stream": "salesforce_accounts"}
    assert [(e.type, e.subject) for e in events] == [
        ("sync.queued", ids),
        ("sync.cancelled", ids),
        ("repair.rejected", {**proposal, "proposal_id": str(proposal_id)}),
    ]
    assert events[1].payload == {"read": 0, "written": 0, "quarantined": 0}


async def test_a_failed_refresh_is_announced_with_its_reason(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path
) -> None:
    tid, db = await _tid(api, tenant_a), _db(api)
    runtime: Any = api.runtime  # type: ignore[attr-defined]
    cid, _, _ = await _accounts(api, tenant_a, tmp_path)

    class Broken:
        async def materialize(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            raise OSError("disk full")

    start = await last_id(db, tid)
    outcome = await ViewRefresher(db, Broken()).refresh(
        tid, uuid.UUID(cid), None, full=True, reason="manual", subject_id=uuid.UUID(int=7)
    )
    (event,) = await numbered(db, tid, after=start)
    assert (event.type, event.subject) == (
        "views.refresh_failed",
        {"connection_id": cid, "refresh_id": str(outcome.id), "user_id": str(uuid.UUID(int=7))},
    )
    assert event.payload == {
        "reason": "manual",
        "streams": None,
        "full": True,
        "entities": [],
        "error": "disk full",
    }
    assert runtime.refresher is not None


async def test_a_rolled_back_savepoint_does_not_delay_the_rest(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    """Safe Mode applies each repair in a savepoint: one that fails must neither report
    nor keep the transaction's other events from being numbered at its commit."""
    tid, db = await _tid(api, tenant_a), _db(api)
    current = installed()
    assert current is not None  # the API's
    before = await last_id(db, tid)
    conn = uuid.uuid4()
    async with db.tenant_session(tid) as s:
        record(s, "sync.queued", subject={"connection_id": conn})
        with pytest.raises(KeyError):
            async with s.begin_nested():
                record(s, "sync.started", subject={"connection_id": conn})
                await s.flush()
                raise KeyError
        record(s, "sync.cancelled", subject={"connection_id": conn})
    await current.wait()
    # read as they are (not numbered by this test): the process's numberer did it
    events = await EventLog(db, sweep_s=0).read(tid, after=before)
    assert [e.type for e in events] == ["sync.queued", "sync.cancelled"]
