"""/nlp/v1/persona/summary and /nlp/v1/ask on SQLite and Postgres, with the default
offline LLM: demo content (marked) for a tenant without data, real numbers with their
sources once the demo company's sources are synced, mapped and analysed, routing,
auth and cross-tenant cases. The remote-LLM path (prompts, budget, telemetry) is in
tests/integration/nlp/test_llm_gateway.py."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest

from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.agents import analysed_demo
from tests.integration.dcl.conftest import tenant_id

SUMMARY = "/nlp/v1/persona/summary"
ASK = "/nlp/v1/ask"


def error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"]["code"] == code, body
    return body["error"]


async def test_auth_is_required(api: httpx.AsyncClient) -> None:
    error(await api.get(SUMMARY, params={"persona": "CFO"}), 401, "unauthorized")
    error(await api.post(ASK, json={"question": "how is cash?"}), 401, "unauthorized")
    bad = {"Authorization": "Bearer not-a-token"}
    error(await api.post(ASK, json={"question": "x"}, headers=bad), 401, "unauthorized")


async def test_bad_input_is_422(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    h = tenant_a.headers
    error(await api.get(SUMMARY, params={"persona": "CEO"}, headers=h), 422, "validation_error")
    error(await api.get(SUMMARY, headers=h), 422, "validation_error")
    error(await api.post(ASK, json={"question": ""}, headers=h), 422, "validation_error")
    error(await api.post(ASK, json={"question": "x" * 2001}, headers=h), 422, "validation_error")
    r = await api.post(ASK, json={"question": "cash?", "persona": "CEO"}, headers=h)
    error(r, 422, "validation_error")
    error(await api.post(ASK, json={"question": "q", "x": 1}, headers=h), 422, "validation_error")


async def test_demo_content_without_data_is_marked_and_deterministic(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    for persona in ("CTO", "CRO", "COO", "CFO"):
        first = await api.get(SUMMARY, params={"persona": persona}, headers=tenant_a.headers)
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["demo"] is True and body["persona"] == persona
        assert body["facts"] and all(f["source"]["type"] == "demo" for f in body["facts"])
        assert body["model"] == "offline" and body["headline"].startswith(f"{persona} briefing")
        ids = {f["id"] for f in body["facts"]}
        assert body["points"] and all(set(p["citations"]) <= ids for p in body["points"])
        again = (
            await api.get(SUMMARY, params={"persona": persona}, headers=tenant_a.headers)
        ).json()
        assert (again["headline"], again["points"]) == (body["headline"], body["points"])
    r = await api.post(
        ASK, json={"question": "Which invoices are overdue?"}, headers=tenant_a.headers
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["demo"] is True and answer["routing"]["persona"] == "CFO"
    assert "past due" in answer["headline"]  # the most relevant demo fact leads


async def test_summaries_cite_the_views_and_findings_of_the_tenant(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, tmp_path: Path
) -> None:
    db = Database(api.runtime.settings.app_database_url)  # type: ignore[attr-defined]
    try:
        await analysed_demo(api, tenant_a, db, tmp_path)
    finally:
        await db.dispose()

    r = await api.get(SUMMARY, params={"persona": "CRO"}, headers=tenant_a.headers)
    assert r.status_code == 200, r.text
    cro = r.json()
    assert cro["demo"] is False
    kinds = {f["source"]["type"] for f in cro["facts"]}
    assert kinds == {"view", "finding"}, cro["facts"]
    # every number from a view is what its query gives in the SQL sandbox
    pipeline = next(f for f in cro["facts"] if f["statement"].startswith("Open pipeline"))
    assert pipeline["source"]["view"] == "opportunity"
    q = await api.post(
        "/api/v1/dcl/query", headers=tenant_a.headers, json={"sql": pipeline["source"]["query"]}
    )
    assert q.status_code == 200, q.text
    result = q.json()
    names = [c["name"] for c in result["columns"]]
    first = dict(zip(names, result["rows"][0], strict=True))
    assert f"{first['amount']:,.2f} {first['currency']}" in pipeline["statement"]
    assert f"across {first['deals']} deals" in pipeline["statement"]
    # findings are cited by id, with the query that reproduces them
    slipped = [f for f in cro["facts"] if f["source"]["type"] == "finding"]
    assert slipped and all(f["source"]["finding_id"] and f["source"]["query"] for f in slipped)
    assert any("after their close date" in f["statement"] for f in slipped)
    assert len(slipped) <= 3  # the view numbers keep room in the briefing
    # the headline leads with a high-severity finding, and points cite known facts
    ids = {f["id"] for f in cro["facts"]}
    assert all(set(p["citations"]) <= ids and p["citations"] for p in cro["points"])

    cto = (await api.get(SUMMARY, params={"persona": "CTO"}, headers=tenant_a.headers)).json()
    assert cto["demo"] is False
    assert any(f["source"]["view"] == "cloud_cost" for f in cto["facts"])
    assert any("idle" in (f["source"]["title"] or "").lower() for f in cto["facts"]), cto["facts"]

    # the other tenant sees none of it: still demo content
    other = (await api.get(SUMMARY, params={"persona": "CRO"}, headers=tenant_b.headers)).json()
    assert other["demo"] is True
    theirs = {f["source"].get("finding_id") for f in cro["facts"]} - {None}
    assert not theirs & {f["source"].get("finding_id") for f in other["facts"]}

    # a question routed to the CFO, answered from this tenant's views
    r = await api.post(
        ASK, json={"question": "What is our cloud spend this month?"}, headers=tenant_a.headers
    )
    answer = r.json()
    assert r.status_code == 200 and answer["demo"] is False, r.text
    assert answer["routing"]["persona"] in {"CFO", "CTO"}
    assert re.search(
        r"Cloud spend .* USD", answer["headline"] + " ".join(p["text"] for p in answer["points"])
    )


async def test_ask_routes_and_cites_the_knowledge_base_of_its_tenant_only(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    marker = f"zebracorn-{uuid.uuid4().hex[:6]}"
    text = (
        f"Escalation runbook {marker}: urgent support tickets are paged to the on-call "
        "support lead within 15 minutes, and the ticket backlog is reviewed every Monday."
    )
    r = await api.post(
        "/nlp/v1/kb/documents", headers=tenant_a.headers, json={"text": text, "title": "Runbook"}
    )
    assert r.status_code == 201, r.text
    doc_id = r.json()["id"]
    question = f"How are urgent support tickets escalated in the {marker} runbook?"
    a = (await api.post(ASK, json={"question": question}, headers=tenant_a.headers)).json()
    assert a["routing"]["persona"] == "COO", a["routing"]
    assert 0.25 < a["routing"]["confidence"] <= 1
    assert abs(sum(a["routing"]["scores"].values()) - 1) < 0.01
    passages = [f for f in a["facts"] if f["source"]["type"] == "kb"]
    assert passages and passages[0]["source"]["document_id"] == doc_id
    cited = {c for p in a["points"] for c in p["citations"]}
    assert passages[0]["id"] in cited
    assert a["demo"] is False  # a knowledge-base answer is the tenant's own data

    b = (await api.post(ASK, json={"question": question}, headers=tenant_b.headers)).json()
    assert all(f["source"]["type"] != "kb" for f in b["facts"])
    assert marker not in str([b["facts"], b["points"], b["headline"]])

    explicit = await api.post(
        ASK, json={"question": question, "persona": "CTO"}, headers=tenant_a.headers
    )
    routing = explicit.json()["routing"]
    assert routing == {
        "persona": "CTO",
        "confidence": 1.0,
        "scores": {"CTO": 1.0, "CRO": 0.0, "COO": 0.0, "CFO": 0.0},
        "router": "explicit",
    }


@pytest.mark.parametrize(
    ("question", "persona"),
    [
        ("Which deals slipped past their close date?", "CRO"),
        ("How much do we owe on unpaid invoices and what is our MRR?", "CFO"),
        ("Why did the EC2 cost spike last week?", "CTO"),
        ("How many support tickets are still open?", "COO"),
    ],
)
async def test_clear_questions_route_to_their_persona(
    api: httpx.AsyncClient, tenant_a: Tenant, question: str, persona: str
) -> None:
    r = await api.post(ASK, json={"question": question}, headers=tenant_a.headers)
    assert r.status_code == 200, r.text
    assert r.json()["routing"]["persona"] == persona


async def test_without_demo_mode_a_tenant_without_data_gets_no_demo_content(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    from autonomos.nlp.personas import Persona, PersonaService

    rt = api.runtime  # type: ignore[attr-defined]
    service = PersonaService(
        rt.db, rt.dcl, rt.kb, llm=rt.llm, router=rt.persona_router, demo_mode=False
    )
    tid = await tenant_id(api, tenant_a)
    briefing = await service.summary(tid, Persona.CFO)
    assert briefing.demo is False and briefing.facts == [] and briefing.points == []
    assert briefing.headline == "CFO briefing: there is no data to report on yet."
    answer = await service.ask(tid, "How much cash did we collect?")
    assert answer.demo is False and answer.facts == []
