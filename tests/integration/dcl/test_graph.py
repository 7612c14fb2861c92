"""GET /api/v1/dcl/graph: nodes and edges from SQL, mapping confidence, drift, isolation."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from autonomos.dcl import registry
from autonomos.dcl.graph import AgentPersona, build_graph
from autonomos.ontology import load_ontology
from autonomos.store.aam_models import DriftEventRow
from autonomos.store.dcl_models import ViewMaterialization
from autonomos.store.session import Database
from tests.conftest import Tenant, files_connection
from tests.helpers.api import add_user, assert_error

GRAPH = "/api/v1/dcl/graph"


async def _synced_connection(api: httpx.AsyncClient, t: Tenant, tmp_path: Path) -> str:
    src = tmp_path / f"src-{uuid.uuid4().hex[:6]}"
    src.mkdir()
    (src / "accounts.csv").write_text("Id,Name,Website\n1,Acme Inc,acme.com\n2,Globex,globex.io\n")
    (src / "contacts.csv").write_text("Id,Email,AccountId\n1,a@acme.com,1\n")
    cid = await files_connection(api, t, src, "crm")
    run = await api.post(f"/api/v1/aam/connections/{cid}/sync", headers=t.headers)
    assert run.status_code == 202, run.text
    await api.runtime.connections.launcher.drain()  # type: ignore[attr-defined]
    return str(cid)


async def _map_and_drift(db: Database, tid: uuid.UUID, cid: uuid.UUID) -> None:
    async with db.tenant_session(tid) as s:
        for source, target, conf, status in [
            ("id", "account.account_id", 0.95, "active"),
            ("name", "account.name", 0.85, "active"),
            ("website", "account.domain", 0.6, "proposed"),
            ("email", "contact.email", 0.99, "active"),
        ]:
            entity, _, field = target.partition(".")
            await registry.set_mapping(
                s,
                connection_id=cid,
                stream="accounts" if entity == "account" else "contacts",
                source_field=source,
                entity=entity,
                field=field,
                confidence=conf,
                status=status,
                decided_by="test",
            )
        for severity in ("warning", "breaking"):
            s.add(
                DriftEventRow(
                    connection_id=cid,
                    stream="contacts",
                    new_fingerprint="f" * 64,
                    severity=severity,
                    changes=[],
                    status="open",
                )
            )
        s.add(
            ViewMaterialization(
                connection_id=cid, stream="accounts", entity="account", status="ok",
                mode="full", rows=2,
            )
        )  # fmt: skip
        s.add(
            DriftEventRow(
                connection_id=cid,
                stream="accounts",
                new_fingerprint="e" * 64,
                severity="info",
                changes=[],
                status="applied",
            )
        )


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in items}


async def _tid(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    return uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])


async def test_graph_shows_streams_mappings_and_drift(
    api: httpx.AsyncClient, tenant_a: Tenant, db: Database, tmp_path: Path
) -> None:
    cid = await _synced_connection(api, tenant_a, tmp_path)
    tid = await _tid(api, tenant_a)
    await _map_and_drift(db, tid, uuid.UUID(cid))
    viewer = await add_user(api, tenant_a, "viewer")
    r = await api.get(GRAPH, headers=viewer.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    nodes, edges = _by_id(body["nodes"]), _by_id(body["edges"])

    conn = nodes[f"connection:{cid}"]
    assert conn["type"] == "connection" and conn["data"]["source_type"] == "files"
    assert conn["data"]["streams"] == 2 and conn["data"]["mappings"] == 3
    assert conn["data"]["open_drift_events"] == 2
    accounts = nodes[f"stream:{cid}/accounts"]
    assert accounts["data"]["rows"] == 2 and accounts["data"]["batches"] >= 1
    assert accounts["data"]["drift"]["state"] == "ok"  # its drift event was applied
    contacts_edge = edges[f"connection:{cid}->stream:{cid}/contacts"]
    assert contacts_edge["type"] == "has_stream"
    assert contacts_edge["data"]["drift"]["state"] == "drifted"
    assert contacts_edge["data"]["drift"]["open_events"] == 2
    assert contacts_edge["data"]["drift"]["max_severity"] == "breaking"

    maps = edges[f"stream:{cid}/accounts->entity:account"]
    assert maps["type"] == "maps_to" and maps["data"]["state"] == "active"
    assert maps["data"]["mappings"] == 2
    assert maps["data"]["mean_confidence"] == 0.9 and maps["data"]["min_confidence"] == 0.85
    assert maps["data"]["by_status"] == {"active": 2, "proposed": 1}
    assert maps["data"]["materialization"]["rows"] == 2
    assert maps["data"]["materialization"]["status"] == "ok"
    contact_edge = edges[f"stream:{cid}/contacts->entity:contact"]
    assert contact_edge["data"]["mappings"] == 1 and contact_edge["data"]["materialization"] is None

    ontology = load_ontology()
    for entity in ontology.entity_names:
        assert nodes[f"entity:{entity}"]["type"] == "entity"
    assert nodes["entity:account"]["data"]["mapped_fields"] == 2
    assert nodes["entity:account"]["data"]["source_connections"] == 1
    assert nodes["entity:account"]["data"]["rows"] == 2
    assert nodes["view:unified_account"]["type"] == "unified_view"
    assert edges["entity:account->view:unified_account"]["type"] == "resolves_into"
    assert not [n for n in body["nodes"] if n["type"] == "agent"]  # none configured
    assert body["stats"]["nodes"]["stream"] == 2
    for e in body["edges"]:  # every edge joins two nodes of the graph
        assert e["source"] in nodes and e["target"] in nodes, e

    one = (await api.get(GRAPH, headers=viewer.headers, params={"connection_id": cid})).json()
    assert {n["id"] for n in one["nodes"] if n["type"] == "connection"} == {f"connection:{cid}"}


async def test_graph_is_tenant_isolated(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, db: Database, tmp_path: Path
) -> None:
    cid = await _synced_connection(api, tenant_a, tmp_path)
    await _map_and_drift(db, await _tid(api, tenant_a), uuid.UUID(cid))
    for params in ({}, {"connection_id": cid}):
        body = (await api.get(GRAPH, headers=tenant_b.headers, params=params)).json()
        assert not [n for n in body["nodes"] if n["type"] in ("connection", "stream")]
        assert not [e for e in body["edges"] if e["type"] in ("has_stream", "maps_to")]
        assert all(n["data"].get("mapped_fields", 0) == 0 for n in body["nodes"])
        assert cid not in r_text(body)
    assert_error(await api.get(GRAPH), 401, "unauthorized")
    bad = await api.get(GRAPH, headers=tenant_b.headers, params={"connection_id": "nope"})
    assert_error(bad, 422, "validation_error")


def r_text(body: dict[str, Any]) -> str:
    import json

    return json.dumps(body)


async def test_graph_lists_configured_agents(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    api.runtime.agents = (  # type: ignore[attr-defined]
        AgentPersona("revops", "RevOps agent", ("unified_account", "opportunity", "nope")),
    )
    try:
        body = (await api.get(GRAPH, headers=tenant_a.headers)).json()
    finally:
        api.runtime.agents = ()  # type: ignore[attr-defined]
    nodes, edges = _by_id(body["nodes"]), _by_id(body["edges"])
    assert nodes["agent:revops"]["label"] == "RevOps agent"
    assert {e["target"] for e in edges.values() if e["source"] == "agent:revops"} == {
        "view:unified_account",
        "entity:opportunity",
    }


async def test_graph_query_count_does_not_grow_with_connections(
    api: httpx.AsyncClient, tenant_a: Tenant, db: Database, tmp_path: Path
) -> None:
    tid = await _tid(api, tenant_a)
    for _ in range(3):
        await _map_and_drift(db, tid, uuid.UUID(await _synced_connection(api, tenant_a, tmp_path)))
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "set_config" not in statement:
            statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.tenant_session(tid) as s:
            graph = await build_graph(s, load_ontology())
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert len([n for n in graph.nodes if n.type == "connection"]) == 3
    assert len([e for e in graph.edges if e.type == "maps_to"]) == 6
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 7, selects
