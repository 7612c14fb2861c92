"""The repair agent end to end over the API: a real drift (files connector, two syncs),
proposals with evidence, Safe Mode, approve / reject / edit / rollback through the
mapping registry, audit rows, Slack, roles and tenant isolation (SQLite and Postgres)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from autonomos.aam.repair import store as repair_store
from autonomos.aam.repair.agent import RepairService
from autonomos.aam.repair.models import Evidence, RepairProposal
from autonomos.aam.repair.notify import SlackNotifier
from autonomos.dcl import registry
from autonomos.dcl.refresh import ViewRefresher
from tests.conftest import Tenant
from tests.helpers.api import add_user, assert_error
from tests.helpers.repair import FakeMatcher, Receiver
from tests.integration.repair.factories import drifted_connection, tenant_id

API = "/api/v1/repair"


class Hook:
    """A DCL port that records the view refreshes asked of it instead of materialising."""

    def __init__(self) -> None:
        self.calls: list[tuple[uuid.UUID, uuid.UUID, list[str]]] = []

    async def materialize(
        self,
        tenant: uuid.UUID,
        conn: uuid.UUID,
        streams: Sequence[str] | None = None,
        *,
        full: bool = False,
    ) -> dict[str, Any]:
        self.calls.append((tenant, conn, list(streams or ())))
        return {"connection_id": str(conn), "slices": [], "resolution": None, "duration_ms": 0.0}


@pytest.fixture
def slack() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def hook(api: httpx.AsyncClient, slack: Receiver, monkeypatch: pytest.MonkeyPatch) -> Hook:
    """The app's repair service with a deterministic matcher, Slack at a local receiver
    and a recording re-materialisation hook."""
    h = Hook()

    async def matcher(_session: Any, _tenant: uuid.UUID) -> FakeMatcher:
        return FakeMatcher()

    service: RepairService = api.runtime.repair  # type: ignore[attr-defined]
    monkeypatch.setattr(service, "notifier", SlackNotifier(slack.url))
    monkeypatch.setattr(service, "matcher_factory", matcher)
    monkeypatch.setattr(service, "refresher", ViewRefresher(service.db, h))
    return h


async def scan(api: httpx.AsyncClient, t: Tenant) -> dict[str, int]:
    r = await api.post(f"{API}/scan", headers=t.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def proposals(api: httpx.AsyncClient, t: Tenant, **params: Any) -> dict[tuple[str, str], Any]:
    r = await api.get(f"{API}/proposals", headers=t.headers, params=params)
    assert r.status_code == 200, r.text
    return {(p["kind"], p["source_field"]): p for p in r.json()["proposals"]}


async def active(api: httpx.AsyncClient, t: Tenant, cid: str) -> dict[str, Any]:
    db = api.runtime.db  # type: ignore[attr-defined]
    async with db.tenant_session(await tenant_id(api, t)) as s:
        rows = await registry.active_mappings(s, uuid.UUID(cid), "accounts")
        return {m.source_field: m for m in rows}


async def audit_entries(api: httpx.AsyncClient, t: Tenant, action: str) -> list[dict[str, Any]]:
    r = await api.get("/api/v1/audit", headers=t.headers, params={"action": action})
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


async def test_drift_becomes_proposals_safe_mode_and_slack(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path, hook: Hook, slack: Receiver
) -> None:
    conn = await drifted_connection(api, tenant_a, tmp_path)
    cid = conn["connection_id"]
    # the inline sync already handed its drift to the repair service: nothing left to scan
    assert await scan(api, tenant_a) == {"handled": 0, "created": 0, "applied": 0, "pending": 0}
    props = await proposals(api, tenant_a, connection_id=cid)
    status = {k: p["status"] for k, p in props.items()}
    assert status == {
        ("remap", "user_name"): "applied",  # a plain rename: confident, non-destructive
        ("cast", "employees"): "applied",  # widened: cast rule
        ("new_mapping", "phone"): "applied",  # the matcher's confident suggestion
        ("remap", "deactivated"): "pending",  # inverted boolean: a human decides
        ("mark_broken", "legacy_code"): "pending",  # destructive: a human decides
    }
    assert all(p["auto_applied"] == (p["status"] == "applied") for p in props.values())
    # the registry was changed by the agent (decided_by repair-agent), not by a person
    maps = await active(api, tenant_a, cid)
    assert f"{maps['username'].entity}.{maps['username'].field}" == "account.owner_id"
    assert maps["username"].decided_by == "repair-agent" and "user_name" not in maps
    assert maps["employees"].transform == "trim|nullif_empty"
    assert f"{maps['phone'].entity}.{maps['phone'].field}" == "account.phone"
    assert maps["legacy_code"].status == "active"  # not applied: still mapped
    # evidence: signals, samples on both sides (landed data), alternatives, fingerprints
    inverted = props[("remap", "deactivated")]
    full = (await api.get(f"{API}/proposals/{inverted['id']}", headers=tenant_a.headers)).json()
    ev = full["evidence"]
    assert full["transform"] == "not" and full["new_source_field"] == "is_active"
    assert ev["signals"]["pattern"] == "inverted" and "name" in ev["signals"]
    assert set(ev["samples_before"]) == {"false", "true"}
    assert set(ev["samples_after"]) == {"false", "true"}
    assert ev["old_fingerprint"] and ev["new_fingerprint"]
    assert ev["old_fingerprint"] != ev["new_fingerprint"]
    assert full["old_fingerprint"] == ev["old_fingerprint"]
    broken = (
        await api.get(
            f"{API}/proposals/{props[('mark_broken', 'legacy_code')]['id']}",
            headers=tenant_a.headers,
        )
    ).json()
    assert broken["destructive"] and broken["reason"].startswith("ALERT")
    assert len(broken["evidence"]["alternatives"]) <= 3
    phone = (
        await api.get(
            f"{API}/proposals/{props[('new_mapping', 'phone')]['id']}", headers=tenant_a.headers
        )
    ).json()
    assert phone["evidence"]["alternatives"][0]["value"] == "account.phone"
    assert phone["evidence"]["samples_after"][:1] == ["+1 555 0100"]
    # one Slack message about the two pending proposals; views re-materialised once
    (msg,) = slack.requests
    assert "2 repair proposals need review" in msg["json"]["text"]
    assert inverted["id"] in msg["json"]["text"]
    assert hook.calls == [(await tenant_id(api, tenant_a), uuid.UUID(cid), ["accounts"])]
    autos = await audit_entries(api, tenant_a, "repair.auto_apply")
    assert len(autos) == 3 and all(e["actor_id"] is None for e in autos)
    assert {e["details"]["after"]["status"] for e in autos} == {"applied"}
    # replaying does nothing
    assert (await scan(api, tenant_a))["handled"] == 0
    assert len(slack.requests) == 1
    listed = await api.get(
        f"{API}/proposals", headers=tenant_a.headers, params={"status": "pending", "limit": 1}
    )
    body = listed.json()
    assert body["total"] == 2 and len(body["proposals"]) == 1 and body["limit"] == 1


async def test_approve_then_rollback_restores_the_previous_version(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path, hook: Hook
) -> None:
    cid = (await drifted_connection(api, tenant_a, tmp_path))["connection_id"]
    await scan(api, tenant_a)
    pid = (await proposals(api, tenant_a))[("remap", "deactivated")]["id"]
    op = await add_user(api, tenant_a, "operator")
    me = (await api.get("/api/v1/auth/me", headers=op.headers)).json()
    r = await api.post(
        f"{API}/proposals/{pid}/approve",
        headers=op.headers,
        json={"note": "yes, is_active is the inverse"},
    )
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "applied" and approved["decided_by"] == me["id"]
    assert not approved["auto_applied"] and len(approved["applied"]) == 2
    maps = await active(api, tenant_a, cid)
    assert "deactivated" not in maps
    assert maps["is_active"].transform == "not" and maps["is_active"].decided_by == me["id"]
    assert maps["is_active"].confidence == 1.0  # a person decided: the tenant's memory
    (entry,) = await audit_entries(api, tenant_a, "repair.approve")
    assert entry["actor_id"] == me["id"] and entry["target_id"] == pid
    assert entry["details"]["before"]["status"] == "pending"
    assert entry["details"]["after"]["status"] == "applied"
    assert entry["details"]["note"] == "yes, is_active is the inverse"
    assert entry["at"] and entry["request_id"]
    # deciding twice is a conflict
    assert_error(
        await api.post(f"{API}/proposals/{pid}/approve", headers=op.headers), 409, "conflict"
    )
    # roll back: the previous mapping version comes back, as a new version
    r = await api.post(f"{API}/proposals/{pid}/rollback", headers=op.headers, json={})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rolled_back"
    maps = await active(api, tenant_a, cid)
    assert "is_active" not in maps
    restored = maps["deactivated"]
    assert f"{restored.entity}.{restored.field}" == "account.is_deleted"
    assert restored.transform is None and restored.version == 3  # v1, retired v2, restored v3
    (entry,) = await audit_entries(api, tenant_a, "repair.rollback")
    assert entry["details"]["before"]["status"] == "applied"
    assert entry["details"]["after"]["status"] == "rolled_back"
    assert_error(
        await api.post(f"{API}/proposals/{pid}/rollback", headers=op.headers), 409, "conflict"
    )
    assert len(hook.calls) == 3  # auto-apply, approve, rollback


async def test_reject_and_edit_and_approve(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path, hook: Hook
) -> None:
    cid = (await drifted_connection(api, tenant_a, tmp_path))["connection_id"]
    await scan(api, tenant_a)
    props = await proposals(api, tenant_a)
    broken = props[("mark_broken", "legacy_code")]["id"]
    r = await api.post(
        f"{API}/proposals/{broken}/reject",
        headers=tenant_a.headers,
        json={"note": "the column comes back next release"},
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert (await active(api, tenant_a, cid))["legacy_code"].status == "active"
    (entry,) = await audit_entries(api, tenant_a, "repair.reject")
    assert entry["details"]["after"]["status"] == "rejected"
    assert_error(
        await api.post(f"{API}/proposals/{broken}/rollback", headers=tenant_a.headers),
        409,
        "conflict",
    )

    inverted = props[("remap", "deactivated")]["id"]
    bad = [
        ({}, "validation_error"),  # nothing to edit
        ({"transform": "drop table"}, "invalid_mapping"),
        ({"target": "account.nope"}, "invalid_mapping"),
        ({"target": "nodot"}, "invalid_mapping"),
    ]
    for body, code in bad:
        r = await api.post(f"{API}/proposals/{inverted}/edit", headers=tenant_a.headers, json=body)
        assert_error(r, 422, code)
    assert (await api.get(f"{API}/proposals/{inverted}", headers=tenant_a.headers)).json()[
        "status"
    ] == "pending"  # a failed edit changes nothing
    # the human says: not inverted after all, and it is the account's deletion flag
    r = await api.post(
        f"{API}/proposals/{inverted}/edit",
        headers=tenant_a.headers,
        json={"transform": "", "target": "account.is_deleted"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "applied" and r.json()["transform"] is None
    maps = await active(api, tenant_a, cid)
    assert maps["is_active"].transform is None and "deactivated" not in maps
    (entry,) = await audit_entries(api, tenant_a, "repair.edit_approve")
    assert entry["details"]["before"]["transform"] == "not"
    assert entry["details"]["after"]["transform"] is None


async def test_safe_mode_settings_and_destructive_changes(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path, hook: Hook
) -> None:
    viewer = await add_user(api, tenant_a, "viewer")
    op = await add_user(api, tenant_a, "operator")
    got = (await api.get(f"{API}/settings", headers=viewer.headers)).json()
    assert got["threshold"] == 0.9 and got["auto_apply"] and got["is_default"]
    assert got["slack_configured"] is False
    assert_error(
        await api.put(f"{API}/settings", headers=op.headers, json={"threshold": 0.5}),
        403,
        "forbidden",
    )
    for body in ({"threshold": 0}, {"threshold": 1.5}, {"threshold": "x"}, {"nope": 1}):
        assert_error(
            await api.put(f"{API}/settings", headers=tenant_a.headers, json=body),
            422,
            "validation_error",
        )
    r = await api.put(f"{API}/settings", headers=tenant_a.headers, json={"threshold": 0.01})
    assert r.status_code == 200 and r.json()["threshold"] == 0.01 and not r.json()["is_default"]
    (entry,) = await audit_entries(api, tenant_a, "repair.settings")
    assert entry["details"]["before"]["threshold"] == 0.9
    assert entry["details"]["after"]["threshold"] == 0.01
    # even at a threshold of 0.01, nothing destructive applies on its own
    await drifted_connection(api, tenant_a, tmp_path)
    await scan(api, tenant_a)
    props = await proposals(api, tenant_a)
    for p in props.values():
        assert p["status"] == ("pending" if p["destructive"] else "applied"), p
    assert props[("remap", "deactivated")]["status"] == "pending"
    assert props[("mark_broken", "legacy_code")]["status"] == "pending"
    # automatic repairs off: everything waits
    await api.put(f"{API}/settings", headers=tenant_a.headers, json={"auto_apply": False})
    second = await drifted_connection(api, tenant_a, tmp_path / "second")
    props = await proposals(api, tenant_a, connection_id=second["connection_id"])
    assert len(props) == 5 and all(p["status"] == "pending" for p in props.values())


async def test_roles_and_bad_input(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path, hook: Hook
) -> None:
    await drifted_connection(api, tenant_a, tmp_path)
    viewer = await add_user(api, tenant_a, "viewer")
    assert_error(await api.post(f"{API}/scan", headers=viewer.headers), 403, "forbidden")
    await scan(api, tenant_a)
    pid = (await proposals(api, viewer))[("remap", "deactivated")]["id"]
    assert (await api.get(f"{API}/proposals/{pid}", headers=viewer.headers)).status_code == 200
    for action in ("approve", "reject", "rollback", "edit"):
        r = await api.post(f"{API}/proposals/{pid}/{action}", headers=viewer.headers, json={})
        assert_error(r, 403, "forbidden")
    for params in (
        {"status": "nope"},
        {"limit": 0},
        {"limit": 10_000},
        {"offset": -1},
        {"connection_id": "x"},
    ):
        r = await api.get(f"{API}/proposals", headers=viewer.headers, params=params)
        assert_error(r, 422, "validation_error")
    assert_error(
        await api.get(f"{API}/proposals/not-a-uuid", headers=viewer.headers),
        422,
        "validation_error",
    )
    r = await api.post(
        f"{API}/proposals/{pid}/reject", headers=tenant_a.headers, json={"note": "x" * 3000}
    )
    assert_error(r, 422, "validation_error")


async def test_tenant_isolation(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, tmp_path: Path, hook: Hook
) -> None:
    cid = (await drifted_connection(api, tenant_a, tmp_path))["connection_id"]
    await scan(api, tenant_a)
    pid = (await proposals(api, tenant_a))[("remap", "deactivated")]["id"]
    missing = str(uuid.uuid4())
    for method, path in [
        ("GET", ""),
        ("POST", "/approve"),
        ("POST", "/reject"),
        ("POST", "/rollback"),
        ("POST", "/edit"),
    ]:
        body = {"/edit": {"target": "account.name"}, "": None}.get(path, {})
        theirs = await api.request(
            method, f"{API}/proposals/{pid}{path}", headers=tenant_b.headers, json=body
        )
        nothing = await api.request(
            method, f"{API}/proposals/{missing}{path}", headers=tenant_b.headers, json=body
        )
        assert_error(theirs, 404, "not_found")
        assert theirs.json()["error"]["message"] == nothing.json()["error"]["message"]
    assert (await proposals(api, tenant_b)) == {}
    assert (await proposals(api, tenant_b, connection_id=cid)) == {}
    assert (await scan(api, tenant_b))["handled"] == 0  # A's drift is not B's to repair
    mine = (await api.get(f"{API}/proposals/{pid}", headers=tenant_a.headers)).json()
    assert mine["status"] == "pending"


async def test_decisions_feed_the_tenants_mapping_memory(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, tmp_path: Path, hook: Hook
) -> None:
    """An unusual mapping a person approved is suggested confidently for the same field in
    another connection of that tenant, and not in another tenant."""
    from autonomos.aam.repair.suggest import tenant_matcher
    from autonomos.matching.schema import SourceField, SourceSchema

    cid = (await drifted_connection(api, tenant_a, tmp_path))["connection_id"]
    await scan(api, tenant_a)
    pid = (await proposals(api, tenant_a))[("remap", "deactivated")]["id"]
    r = await api.post(
        f"{API}/proposals/{pid}/edit",
        headers=tenant_a.headers,
        json={"target": "account.parent_account_id", "transform": ""},
    )
    assert r.status_code == 200, r.text
    assert (await active(api, tenant_a, cid))["is_active"].field == "parent_account_id"
    other = SourceSchema(
        fields=(
            SourceField("company_name", "string"),
            SourceField("is_active", "boolean"),
            SourceField("domain", "string"),
        ),
        system="erp",
        object="customers",
    )
    db = api.runtime.db  # type: ignore[attr-defined]
    results = {}
    for t in (tenant_a, tenant_b):
        tid = await tenant_id(api, t)
        async with db.tenant_session(tid) as s:
            matcher = await tenant_matcher(s, tid)
        got = {m.source_field: m for m in matcher.suggest(other, entity="account").mappings}
        results[t.name] = got["is_active"]
    mine, theirs = results[tenant_a.name], results[tenant_b.name]
    assert mine.target == "account.parent_account_id" and mine.confidence >= 0.9
    assert theirs.target != "account.parent_account_id" or theirs.confidence < 0.5


async def test_a_mapping_changed_since_the_proposal_is_a_conflict(
    api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path, hook: Hook
) -> None:
    cid = (await drifted_connection(api, tenant_a, tmp_path))["connection_id"]
    await scan(api, tenant_a)
    pid = (await proposals(api, tenant_a))[("remap", "deactivated")]["id"]
    db = api.runtime.db  # type: ignore[attr-defined]
    async with db.tenant_session(await tenant_id(api, tenant_a)) as s:
        await registry.set_mapping(
            s,
            connection_id=uuid.UUID(cid),
            stream="accounts",
            source_field="deactivated",
            entity="account",
            field="is_deleted",
            transform="not",
            decided_by="someone",
        )
    r = await api.post(f"{API}/proposals/{pid}/approve", headers=tenant_a.headers)
    assert_error(r, 409, "conflict")
    assert "changed since this proposal" in r.json()["error"]["message"]
    maps = await active(api, tenant_a, cid)
    assert "is_active" not in maps and maps["deactivated"].transform == "not"
    assert (await api.get(f"{API}/proposals/{pid}", headers=tenant_a.headers)).json()[
        "status"
    ] == "pending"
    # the same field drifting again supersedes the proposal nobody decided on
    later = RepairProposal(
        kind="mark_broken",
        connection_id=cid,
        stream="accounts",
        source_field="deactivated",
        target="account.is_deleted",
        confidence=1.0,
        destructive=True,
        reason="gone",
        evidence=Evidence(summary="gone", new_fingerprint="f-later"),
    )
    async with db.tenant_session(await tenant_id(api, tenant_a)) as s:
        (row,) = await repair_store.save_proposals(s, [later])
        assert await repair_store.save_proposals(s, [later]) == []  # replay: nothing new
    old = (await api.get(f"{API}/proposals/{pid}", headers=tenant_a.headers)).json()
    assert old["status"] == "superseded"
    assert_error(
        await api.post(f"{API}/proposals/{pid}/approve", headers=tenant_a.headers), 409, "conflict"
    )
    new = (await api.get(f"{API}/proposals/{row.id}", headers=tenant_a.headers)).json()
    assert new["status"] == "pending" and new["kind"] == "mark_broken"
