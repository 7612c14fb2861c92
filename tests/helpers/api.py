"""HTTP helpers for API tests: error assertions, users in a role, every route with its ids filled,
one object of each kind per tenant."""

from __future__ import annotations

import uuid

import httpx

from autonomos.aam.connections import InlineSyncLauncher
from tests.conftest import Tenant
from tests.integration.repair.factories import repair_proposal


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


async def add_user(api: httpx.AsyncClient, admin: Tenant, role: str) -> Tenant:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    r = await api.post(
        "/api/v1/users",
        headers=admin.headers,
        json={"email": email, "password": "long enough pw", "role": role},
    )
    assert r.status_code == 201, r.text
    assert r.json()["role"] == role
    login = await api.post(
        "/api/v1/auth/login", json={"email": email, "password": "long enough pw"}
    )
    return Tenant(admin.name, email, "long enough pw", login.json())


def fill(path: str, ids: dict[str, object] | None = None) -> str:
    """The path with its ``{..._id}`` parameters filled (random UUIDs unless given)."""
    import re

    names = re.findall(r"{(\w+)}", path)
    return path.format(**{n: (ids or {}).get(n, uuid.uuid4()) for n in names})


async def tenant_objects(api: httpx.AsyncClient, t: Tenant, tmp_path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """One object of each kind a route can take an id of, owned by ``t``."""
    me = (await api.get("/api/v1/auth/me", headers=t.headers)).json()
    src = tmp_path / f"src-{uuid.uuid4().hex[:6]}"
    src.mkdir()
    (src / "accounts.csv").write_text("id,name\n1,Acme\n")
    conn = await api.post(
        "/api/v1/aam/connections",
        headers=t.headers,
        json={
            "name": f"files-{uuid.uuid4().hex[:6]}",
            "source_type": "files",
            "config": {"path": str(src)},
        },
    )
    assert conn.status_code == 201, conn.text
    run = await api.post(f"/api/v1/aam/connections/{conn.json()['id']}/sync", headers=t.headers)
    assert run.status_code == 202, run.text
    await api.runtime.connections.launcher.drain()  # type: ignore[attr-defined]
    return {
        "user_id": me["id"],
        "connection_id": conn.json()["id"],
        "run_id": run.json()["run_id"],
        "job_id": await _job(api, uuid.UUID(me["tenant_id"])),
        "proposal_id": await repair_proposal(api, t, conn.json()["id"]),
        "mapping_id": await _mapping(api, t, conn.json()["id"]),
        **await _agent_and_run(api, t),
    }


async def _agent_and_run(api: httpx.AsyncClient, t: Tenant) -> dict[str, str]:
    """A third-party agent and a run it reported with its own token (no execution)."""
    r = await api.post(
        "/api/v1/aoa/agents",
        headers=t.headers,
        json={"name": f"ext-{uuid.uuid4().hex[:8]}", "owner": "matrix"},
    )
    assert r.status_code == 201, r.text
    agent = r.json()
    r = await api.post(
        f"/api/v1/aoa/agents/{agent['id']}/runs",
        headers={"Authorization": f"Bearer {agent['token']}"},
        json={"status": "succeeded", "external_id": "matrix-1", "duration_ms": 5},
    )
    assert r.status_code == 201, r.text
    return {"agent_id": agent["id"], "agent_run_id": r.json()["id"]}


async def _mapping(api: httpx.AsyncClient, t: Tenant, connection_id: str) -> str:
    """A mapping of the synced ``accounts`` stream (the DCL restore route takes its id)."""
    r = await api.put(
        "/api/v1/dcl/mappings",
        headers=t.headers,
        json={
            "connection_id": connection_id,
            "stream": "accounts",
            "source_field": "id",
            "entity": "account",
            "field": "account_id",
            "materialize": False,
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["mapping"]["id"])


async def _job(api: httpx.AsyncClient, tenant_id: uuid.UUID) -> str:
    """A finished batch job row: reading, stopping (409) or retrying (409) it never calls
    a job server, so the route matrices run without one."""
    from autonomos.store.jobs_models import Job

    job = Job(
        tenant_id=tenant_id,
        kind="batch_map",
        params={},
        dedupe_key="matrix",
        submission_id=f"autonomos-batch-map-{uuid.uuid4().hex}-a1",
        entrypoint="true",
        status="succeeded",
    )
    async with api.runtime.db.tenant_session(tenant_id) as s:  # type: ignore[attr-defined]
        s.add(job)
    return str(job.id)


# Streams that never end: the in-process transport waits for a response's end, so route
# matrices leave them out (tests/integration/events/test_live.py runs them on servers;
# tests/integration/serve_apps/api/routes/test_events.py checks what they answer before streaming).
ENDLESS = {("GET", "/api/v1/events/stream")}


def api_routes(api: httpx.AsyncClient) -> list[tuple[str, str]]:
    """Every operation the app documents (the OpenAPI schema lists each route once),
    but the endless streams."""
    paths = api.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = [(m.upper(), path) for path, ops in paths.items() for m in ops]
    return [r for r in routes if r not in ENDLESS]


async def drain(api: httpx.AsyncClient) -> None:
    launcher = api.runtime.connections.launcher  # type: ignore[attr-defined]
    assert isinstance(launcher, InlineSyncLauncher)
    await launcher.drain()
    await api.runtime.events.wait()  # type: ignore[attr-defined]  # and their events numbered
