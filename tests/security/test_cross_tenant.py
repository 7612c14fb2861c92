"""The cross-tenant matrix, generated from the OpenAPI document: tenant B's admin never
reads or changes tenant A's data, whatever route, id, query or configuration it uses.

Tenant A owns one object of every kind (see ``harness.build_estate``). For every
authenticated operation of the document, B sends a valid request whose every object
reference (path, query, body) names one of A's objects, and the same request naming
objects that do not exist: the two answers must be the same (404 for a path id: exactly
like a missing object), and no answer B gets, from any route, may contain anything of
A's (ids, e-mail, tenant, data). Afterwards every one of A's objects reads as before.
An operation the matrix cannot aim (a new kind of id) fails the test, so a new route is
covered the day it is added. The SQL sandbox and connection configurations are aimed at
A's views, files and database the same way.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest

from tests.security.harness import PUBLIC, Call, Estate, build_call, operations

# parts of an answer that change between two reads of the same unchanged object
VOLATILE = re.compile(
    r'"(id|created_at|updated_at|generated_at|elapsed_ms|duration_ms|latency_ms|request_id|live|server_error|logs_tail|since|until)":'
    r'("[^"]*"|[^,}\]]*)'
)


async def _send(api: httpx.AsyncClient, call: Call, headers: dict[str, str]) -> httpx.Response:
    return await api.request(
        call.method, call.url, params=call.params, json=call.body, headers=headers
    )


# what identifies a tenant's objects in what it reads: ids (random UUIDs), and the names
# the tests give things (a word and a random hex suffix: connections, users, tenants)
IDENTIFYING = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[a-z]+-[0-9a-f]{6,32}\b"
)


def _secrets(estate: Estate, seen: dict[str, str]) -> set[str]:
    """Everything identifying in what ``estate``'s tenant can read."""
    return set(IDENTIFYING.findall(" ".join(seen.values()))) | estate.secrets


def _leaks(secrets: set[str], text: str, sent: str = "") -> set[str]:
    """Which ``secrets`` an answer holds (beyond echoing what the caller sent)."""
    return {s for s in secrets if s and s in text and s not in sent}


def _normal(r: httpx.Response, ids: dict[str, str]) -> tuple[int, str]:
    text = r.text
    for value in ids.values():
        text = text.replace(value, "<id>")
    return r.status_code, VOLATILE.sub(r'"\1":_', text)


# reads that count reads: the snapshot's own knowledge-base search is an embedding call
SELF_COUNTING = {("GET", "/api/v1/telemetry/llm")}


async def _snapshot(api: httpx.AsyncClient, a: Estate, doc: dict[str, Any]) -> dict[str, str]:
    """Everything A can read, route by route (with A's own ids)."""
    seen = {}
    for op in operations(doc):
        key = (op.method, op.path)
        if op.method == "GET" and key not in PUBLIC and key not in SELF_COUNTING:
            r = await _send(api, build_call(op, doc, a.ids), a.tenant.headers)
            assert r.status_code == 200, (op.label, r.status_code, r.text)
            seen[op.label] = _normal(r, {})[1]
    return seen


async def test_tenant_b_never_reaches_tenant_a(
    api: httpx.AsyncClient, estates: tuple[Estate, Estate]
) -> None:
    a, b = estates
    doc = (await api.get("/openapi.json")).json()
    before = await _snapshot(api, a, doc)
    secrets = _secrets(a, before)
    assert not _leaks(secrets, " ".join((await _snapshot(api, b, doc)).values()))
    missing = {name: str(uuid.uuid4()) for name in a.ids}
    missing["entity"] = a.ids["entity"]  # a view name, not an object: B has the same view
    public = set()
    for op in operations(doc):  # every operation, the day it is added
        if not op.doc.get("security"):
            public.add((op.method, op.path))
            continue
        try:
            theirs, nobody = build_call(op, doc, a.ids), build_call(op, doc, missing)
        except KeyError as e:
            pytest.fail(f"{op.label} names a {e} that tenant A has none of: add one to the estate")
        r_theirs = await _send(api, theirs, b.tenant.headers)
        r_nobody = await _send(api, nobody, b.tenant.headers)
        assert r_theirs.status_code < 500, (op.label, r_theirs.text)
        sent = json.dumps([theirs.url, theirs.params, theirs.body])
        assert not _leaks(secrets, r_theirs.text, sent), (op.label, r_theirs.text)
        if any(slot != "entity" for slot in theirs.slots):
            assert _normal(r_theirs, a.ids) == _normal(r_nobody, missing), (
                op.label,
                r_theirs.text,
                r_nobody.text,
            )
        if set(op.path_params) - {"entity"}:
            assert r_theirs.status_code == 404, (op.label, r_theirs.status_code, r_theirs.text)
    assert public == PUBLIC, "a route without authentication was added or removed"
    assert await _snapshot(api, a, doc) == before, "tenant B changed something of tenant A's"


async def test_sql_sandbox_reaches_only_the_callers_views(
    api: httpx.AsyncClient, estates: tuple[Estate, Estate]
) -> None:
    a, b = estates
    data_dir = api.runtime.settings.data_dir  # type: ignore[attr-defined]
    landing = data_dir / "landing" / a.tenant_id
    duckdb_file = data_dir / "dcl" / f"{a.tenant_id}.duckdb"
    assert landing.is_dir() and duckdb_file.is_file()
    parquet = next(landing.rglob("*.parquet"))
    queries = [f"SELECT * FROM {view}" for view in a.views] + [
        f"SELECT * FROM read_parquet('{parquet}')",
        f"SELECT * FROM '{parquet}'",
        f"SELECT * FROM read_parquet('{landing}/**/*.parquet')",
        f"SELECT * FROM glob('{landing}/**')",
        f"SELECT * FROM '{duckdb_file}'",
        f"ATTACH '{duckdb_file}' AS theirs",
        f"SELECT * FROM read_text('{duckdb_file}')",
        "SELECT * FROM duckdb_databases()",
        "SELECT table_name FROM information_schema.tables",
    ]
    for sql in queries:
        r = await api.post("/api/v1/dcl/query", headers=b.tenant.headers, json={"sql": sql})
        assert r.status_code in (200, 400), (sql, r.status_code, r.text)
        assert not _leaks(a.secrets, r.text, sql), (sql, r.text)
    # A's own query sees its marker: the attempts above were aimed at real data
    r = await api.post(
        "/api/v1/dcl/query", headers=a.tenant.headers, json={"sql": "SELECT name FROM account"}
    )
    assert [a.marker] in r.json()["rows"]


async def test_connection_configs_cannot_point_at_another_tenants_data(
    api: httpx.AsyncClient, estates: tuple[Estate, Estate]
) -> None:
    a, b = estates
    data_dir = api.runtime.settings.data_dir  # type: ignore[attr-defined]
    # A's own files: its upload area (the tests' shared root over pytest's temp folder is
    # an operator grant to every tenant, so A's other sources are not A's alone here)
    uploads = api.runtime.settings.uploads_dir  # type: ignore[attr-defined]
    folder = a.ids["folder"]
    targets = [
        str(data_dir / "landing" / a.tenant_id),
        str(data_dir / "landing"),
        str(data_dir / "dcl"),
        str(uploads / a.tenant_id / folder),
        f"../{a.tenant_id}/{folder}",
        str(uploads / "*" / folder),
    ]
    leaked = []
    for n, path in enumerate(targets):
        r = await api.post(
            "/api/v1/aam/connections",
            headers=b.tenant.headers,
            json={"name": f"probe-{n}", "source_type": "files", "config": {"path": path}},
        )
        assert r.status_code in (201, 422), (path, r.status_code, r.text)
        if r.status_code == 422:
            assert str(data_dir) not in r.text, r.text  # refused without echoing the path
            continue
        cid = r.json()["id"]
        for action in ("check", "discover", "sync"):
            r = await api.post(f"/api/v1/aam/connections/{cid}/{action}", headers=b.tenant.headers)
            assert r.status_code < 500, (path, action, r.text)
            if _leaks(a.secrets, r.text, path):
                leaked.append((path, action))
        await api.runtime.connections.launcher.drain()  # type: ignore[attr-defined]
        r = await api.post(
            "/api/v1/dcl/materialize", headers=b.tenant.headers, json={"connection_id": cid}
        )
        runs = await api.get(f"/api/v1/aam/connections/{cid}/runs", headers=b.tenant.headers)
        if any(run["records_read"] for run in runs.json()["runs"]):
            leaked.append((path, "synced rows"))
    assert not leaked, leaked
