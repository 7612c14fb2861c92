"""/api/v1/aoa on SQLite and Postgres: agents, runs started on demand and after a
materialisation (executed in-process), third-party agents reporting with their tokens,
findings, xAO metrics; authentication, not-found and cross-tenant answers.

The pipeline is built here (not the demo): 20 healthy deals, one slipped deal worth a
third of the open pipeline and one deal without an update for 91 days.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Tenant, files_connection
from tests.helpers.agents import OPPORTUNITY_MAP, pipeline
from tests.helpers.api import add_user, assert_error
from tests.helpers.views import map_stream, materialize, sync

AOA = "/api/v1/aoa"


async def drain_agents(api: httpx.AsyncClient) -> None:
    await api.runtime.agent_runner.drain()  # type: ignore[attr-defined]


async def agent_id(api: httpx.AsyncClient, t: Tenant, name: str) -> str:
    r = await api.get(f"{AOA}/agents", headers=t.headers)
    assert r.status_code == 200, r.text
    return str(next(a["id"] for a in r.json()["agents"] if a["name"] == name))


async def third_party(api: httpx.AsyncClient, t: Tenant, name: str | None = None) -> dict[str, Any]:
    r = await api.post(
        f"{AOA}/agents",
        headers=t.headers,
        json={"name": name or f"ext-{uuid.uuid4().hex[:8]}", "owner": "data team"},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def mapped(api: httpx.AsyncClient, tenant_a: Tenant, tmp_path: Path) -> str:
    """Tenant A's opportunities synced and mapped (not yet materialised)."""
    cid = await files_connection(api, tenant_a, pipeline(tmp_path / "crm"))
    await sync(api, tenant_a, cid)
    await map_stream(api, tenant_a, cid, "opportunities", "opportunity", OPPORTUNITY_MAP)
    return cid


async def test_materialising_runs_revops_then_on_demand_with_other_params(
    api: httpx.AsyncClient, tenant_a: Tenant, mapped: str
) -> None:
    assert (await api.get(f"{AOA}/runs", headers=tenant_a.headers)).json()["total"] == 0
    report = await materialize(api, tenant_a, mapped, full=True)
    assert ("opportunity", "full") in {(s["entity"], s["mode"]) for s in report["slices"]}
    await drain_agents(api)

    runs = (await api.get(f"{AOA}/runs?agent=revops", headers=tenant_a.headers)).json()
    (run,) = runs["runs"]  # the FinOps agent reads cloud_cost, which did not change
    assert (run["trigger"], run["status"]) == ("materialize", "succeeded"), run
    findings = (
        await api.get(f"{AOA}/findings?agent=revops&severity=high", headers=tenant_a.headers)
    ).json()["findings"]
    slipped = next(f for f in findings if f["kind"] == "slipped_deals")
    assert [r["amount"] for r in slipped["evidence"]["rows"]] == [10_000.0]
    assert slipped["metrics"]["deals"] == 1
    assert all(f["severity"] == "high" for f in findings)
    everything = (await api.get(f"{AOA}/findings?agent=revops", headers=tenant_a.headers)).json()
    stale = next(f for f in everything["findings"] if f["kind"] == "stale_deals")
    assert stale["metrics"]["deals"] == 1 and stale["metrics"]["max_days_since_update"] == 91

    revops = await agent_id(api, tenant_a, "revops")
    r = await api.post(
        f"{AOA}/agents/{revops}/runs",
        headers=tenant_a.headers,
        json={"params": {"stale_days": 100}},
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued" and r.json()["trigger"] == "manual"
    await drain_agents(api)
    again = (await api.get(f"{AOA}/runs/{r.json()['id']}", headers=tenant_a.headers)).json()
    assert again["status"] == "succeeded" and again["inputs"] == {"stale_days": 100}
    assert again["duration_ms"] > 0 and again["summary"]
    kinds = {
        f["kind"]
        for f in (
            await api.get(
                f"{AOA}/findings", headers=tenant_a.headers, params={"agent_run_id": again["id"]}
            )
        ).json()["findings"]
    }
    assert "slipped_deals" in kinds and "stale_deals" not in kinds  # 91 days < 100

    # newest first, and a finished run cannot be cancelled
    listed = (await api.get(f"{AOA}/runs?agent={revops}", headers=tenant_a.headers)).json()
    assert [x["id"] for x in listed["runs"]] == [again["id"], run["id"]]
    assert_error(
        await api.post(f"{AOA}/runs/{again['id']}/cancel", headers=tenant_a.headers),
        409,
        "conflict",
    )
    metrics = (await api.get(f"{AOA}/metrics", headers=tenant_a.headers)).json()
    (m,) = [a["metrics"] for a in metrics["agents"] if a["name"] == "revops"]
    assert m["runs"] == 2 and m["success_rate"] == 1.0 and m["by_status"]["succeeded"] == 2
    assert m["findings"] == run["findings_count"] + again["findings_count"]
    assert m["p50_duration_ms"] > 0 and m["p95_duration_ms"] >= m["p50_duration_ms"]
    assert metrics["total"]["runs"] == 2


async def test_bad_run_input_and_cancelling_a_queued_run(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    revops = await agent_id(api, tenant_a, "revops")
    r = await api.post(
        f"{AOA}/agents/{revops}/runs", headers=tenant_a.headers, json={"params": {"stale_days": 0}}
    )
    assert_error(r, 422, "validation_error")
    assert "stale_days" in r.json()["error"]["message"]
    ext = await third_party(api, tenant_a)
    r = await api.post(f"{AOA}/agents/{ext['id']}/runs", headers=tenant_a.headers, json={})
    assert_error(r, 409, "conflict")  # a third-party agent runs elsewhere
    r = await api.post(
        f"{AOA}/agents/{revops}/runs", headers=tenant_a.headers, json={"status": "succeeded"}
    )
    assert_error(r, 422, "validation_error")  # a user does not report runs
    viewer = await add_user(api, tenant_a, "viewer")
    assert_error(
        await api.post(f"{AOA}/agents/{revops}/runs", headers=viewer.headers, json={}),
        403,
        "forbidden",
    )
    for query in ("severity=urgent", "since=yesterday", "since=2026-01-01T00:00:00", "limit=0"):
        assert_error(
            await api.get(f"{AOA}/findings?{query}", headers=tenant_a.headers),
            422,
            "validation_error",
        )
    assert_error(
        await api.get(f"{AOA}/runs?agent=nobody", headers=tenant_a.headers), 404, "not_found"
    )

    # queued and cancelled before it ran: the runner finds it cancelled and does nothing
    tid = uuid.UUID(
        (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).json()["tenant_id"]
    )
    from autonomos.agents.run_store import request_run

    db = api.runtime.db  # type: ignore[attr-defined]
    async with db.tenant_session(tid) as s:
        run, _ = await request_run(s, uuid.UUID(revops))
    r = await api.post(f"{AOA}/runs/{run.id}/cancel", headers=tenant_a.headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    await api.runtime.agent_runner.submit(tid, [run.id])  # type: ignore[attr-defined]
    await drain_agents(api)
    got = (await api.get(f"{AOA}/runs/{run.id}", headers=tenant_a.headers)).json()
    assert got["status"] == "cancelled" and got["started_at"] is None


async def test_third_party_agent_reports_runs_with_its_own_token(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    agent = await third_party(api, tenant_a, f"forecaster-{uuid.uuid4().hex[:6]}")
    token = agent["token"]
    assert token.startswith("aat.") and agent["token_hint"] == f"…{token[-4:]}"
    shown = (await api.get(f"{AOA}/agents/{agent['id']}", headers=tenant_a.headers)).json()
    assert "token" not in shown and shown["kind"] == "third_party"
    listed = (await api.get(f"{AOA}/agents", headers=tenant_a.headers)).json()["agents"]
    assert token not in str(listed)
    assert {"finops", "revops", agent["name"]} <= {a["name"] for a in listed}
    assert_error(
        await api.post(f"{AOA}/agents", headers=tenant_a.headers, json={"name": agent["name"]}),
        409,
        "conflict",
    )

    report = {
        "external_id": "nightly-1",
        "status": "succeeded",
        "duration_ms": 1500,
        "llm": {"calls": 3, "input_tokens": 1200, "output_tokens": 300, "cost_usd": 0.021},
        "findings": [
            {
                "kind": "churn_risk",
                "severity": "medium",
                "title": "Acme may churn",
                "summary": "Usage down 40 % in 30 days",
                "key": "churn_risk:acme",
                "metrics": {"usage_change": -0.4},
                "evidence": {"view": "account", "query": "SELECT * FROM account LIMIT 1"},
            }
        ],
    }
    url = f"{AOA}/agents/{agent['id']}/runs"
    r = await api.post(url, headers=bearer(token), json=report)
    assert r.status_code == 201, r.text
    run = r.json()
    assert (run["status"], run["trigger"], run["findings_count"]) == ("succeeded", "reported", 1)
    again = await api.post(url, headers=bearer(token), json=report)
    assert again.status_code == 200 and again.json()["id"] == run["id"]  # idempotent

    # wrong secret, a token of tenant B's agent, an agent token on another route
    forged = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    assert_error(await api.post(url, headers=bearer(forged), json=report), 401, "unauthorized")
    assert_error(await api.post(url, headers=bearer("aat.x.y.z"), json=report), 401, "unauthorized")
    other = await third_party(api, tenant_b)
    assert_error(await api.post(url, headers=bearer(other["token"]), json=report), 404, "not_found")
    mine = await third_party(api, tenant_a)  # another agent of the same tenant
    assert_error(
        await api.post(url, headers=bearer(mine["token"]), json=report), 401, "unauthorized"
    )
    assert_error(await api.get(f"{AOA}/agents", headers=bearer(token)), 401, "unauthorized")
    assert_error(
        await api.post(url, headers=bearer(token), json={"params": {}}), 422, "validation_error"
    )

    # its run counts in the tenant's xAO metrics, beside the internal agents
    metrics = (await api.get(f"{AOA}/metrics", headers=tenant_a.headers)).json()
    (m,) = [a["metrics"] for a in metrics["agents"] if a["agent_id"] == agent["id"]]
    assert (m["runs"], m["findings"], m["llm_calls"], m["llm_input_tokens"]) == (1, 1, 3, 1200)
    assert m["llm_cost_usd"] == pytest.approx(0.021) and m["p50_duration_ms"] == 1500
    assert metrics["total"]["llm_output_tokens"] >= 300
    found = (
        await api.get(f"{AOA}/findings?agent={agent['name']}", headers=tenant_a.headers)
    ).json()
    assert [f["key"] for f in found["findings"]] == ["churn_risk:acme"]


async def test_tenant_b_sees_none_of_tenant_as_agents(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    agent = await third_party(api, tenant_a)
    r = await api.post(
        f"{AOA}/agents/{agent['id']}/runs",
        headers=bearer(agent["token"]),
        json={"status": "failed", "error": "source down"},
    )
    run_id = r.json()["id"]
    for method, path in [
        ("GET", f"/agents/{agent['id']}"),
        ("PATCH", f"/agents/{agent['id']}"),
        ("POST", f"/agents/{agent['id']}/runs"),
        ("GET", f"/runs/{run_id}"),
        ("POST", f"/runs/{run_id}/cancel"),
        ("GET", f"/runs?agent={agent['id']}"),
        ("GET", f"/findings?agent={agent['name']}"),
    ]:
        body = {"owner": "pwned"} if method == "PATCH" else ({} if method == "POST" else None)
        r = await api.request(method, f"{AOA}{path}", headers=tenant_b.headers, json=body)
        assert_error(r, 404, "not_found")
    b_view = (await api.get(f"{AOA}/agents", headers=tenant_b.headers)).json()["agents"]
    assert agent["id"] not in {a["id"] for a in b_view}
    b_metrics = (await api.get(f"{AOA}/metrics", headers=tenant_b.headers)).json()
    assert b_metrics["total"]["runs"] == 0
    assert (await api.get(f"{AOA}/runs", headers=tenant_b.headers)).json()["total"] == 0
    a_run = (await api.get(f"{AOA}/runs/{run_id}", headers=tenant_a.headers)).json()
    assert a_run["status"] == "failed" and a_run["error"] == "source down"
    for path in ("/agents", "/runs", "/findings", "/metrics", f"/runs/{run_id}"):
        assert_error(await api.get(f"{AOA}{path}"), 401, "unauthorized")


async def test_schedule_is_validated_and_set(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    finops = await agent_id(api, tenant_a, "finops")
    bad = await api.patch(
        f"{AOA}/agents/{finops}", headers=tenant_a.headers, json={"schedule": "* * * * *"}
    )
    assert_error(bad, 422, "validation_error")  # more often than every 5 minutes
    r = await api.patch(
        f"{AOA}/agents/{finops}", headers=tenant_a.headers, json={"schedule": "0 6 * * *"}
    )
    assert r.status_code == 200 and r.json()["schedule"] == "0 6 * * *"
    assert r.json()["next_run_at"] is not None
