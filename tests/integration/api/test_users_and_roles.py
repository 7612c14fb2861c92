"""Users API, role enforcement, and the cross-tenant matrix over every route."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import Tenant
from tests.integration.api.test_auth import assert_error
from tests.integration.repair.factories import repair_proposal

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
}


async def _user(api: httpx.AsyncClient, admin: Tenant, role: str) -> Tenant:
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


def _api_routes(api: httpx.AsyncClient) -> list[tuple[str, str]]:
    """Every operation the app documents (the OpenAPI schema lists each route once)."""
    paths = api.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [(m.upper(), path) for path, ops in paths.items() for m in ops]


async def test_every_private_route_needs_a_token(api: httpx.AsyncClient) -> None:
    private = [r for r in _api_routes(api) if r not in PUBLIC]
    assert private, "no private routes found"
    for method, path in private:
        r = await api.request(method, fill(path), json={})
        assert_error(r, 401, "unauthorized")


async def test_admin_creates_and_edits_users(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    op = await _user(api, tenant_a, "operator")
    users = (await api.get("/api/v1/users", headers=tenant_a.headers)).json()
    assert users["total"] == 2 and {u["email"] for u in users["users"]} == {
        tenant_a.email,
        op.email,
    }
    op_id = (await api.get("/api/v1/auth/me", headers=op.headers)).json()["id"]
    r = await api.patch(f"/api/v1/users/{op_id}", headers=tenant_a.headers, json={"role": "viewer"})
    assert r.status_code == 200 and r.json()["role"] == "viewer"
    audit = (await api.get("/api/v1/audit?action=user.update", headers=tenant_a.headers)).json()
    assert audit["entries"][0]["details"]["after"] == {"role": "viewer"}
    assert audit["entries"][0]["request_id"]
    # deactivated users cannot log in any more
    await api.patch(f"/api/v1/users/{op_id}", headers=tenant_a.headers, json={"is_active": False})
    assert (
        await api.post("/api/v1/auth/login", json={"email": op.email, "password": op.password})
    ).status_code == 401


async def test_admin_cannot_demote_self(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    me = (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).json()["id"]
    r = await api.patch(f"/api/v1/users/{me}", headers=tenant_a.headers, json={"role": "viewer"})
    assert_error(r, 409, "conflict")


async def test_duplicate_user_email_conflicts(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    r = await api.post(
        "/api/v1/users",
        headers=tenant_a.headers,
        json={"email": tenant_b.email, "password": "long enough pw"},
    )
    assert_error(r, 409, "conflict")


@pytest.mark.parametrize("role", ["operator", "viewer"])
async def test_non_admins_are_forbidden_admin_routes(
    api: httpx.AsyncClient, tenant_a: Tenant, role: str
) -> None:
    user = await _user(api, tenant_a, role)
    me = (await api.get("/api/v1/auth/me", headers=user.headers)).json()
    assert me["role"] == role
    assert (await api.get("/api/v1/tenant", headers=user.headers)).status_code == 200
    for method, url, body in [
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"email": "x@example.com", "password": "long enough pw"}),
        ("GET", f"/api/v1/users/{me['id']}", None),
        ("PATCH", f"/api/v1/users/{me['id']}", {"role": "admin"}),
        ("GET", "/api/v1/audit", None),
    ]:
        assert_error(
            await api.request(method, url, headers=user.headers, json=body), 403, "forbidden"
        )
    assert (await api.get("/api/v1/auth/me", headers=user.headers)).json()["role"] == role


async def test_cross_tenant_matrix(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Tenant B's admin token on every route that takes one of tenant A's ids: 404, no change."""
    ids = await tenant_objects(api, tenant_a, tmp_path)
    a_user = (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).json()
    a_conn = (
        await api.get(
            fill("/api/v1/aam/connections/{connection_id}", ids), headers=tenant_a.headers
        )
    ).json()
    patches = {
        "users": {"full_name": "pwned", "role": "viewer"},
        "aam": {"name": "pwned"},
        "aoa": {"owner": "pwned"},
    }
    bodies: dict[str, object] = {"POST": {}, "PUT": {}, "DELETE": None}
    checked = 0
    for method, path in _api_routes(api):
        if "{" not in path:
            continue
        body = patches[path.split("/")[3]] if method == "PATCH" else bodies.get(method)
        missing = await api.request(method, fill(path), headers=tenant_b.headers, json=body)
        other = await api.request(method, fill(path, ids), headers=tenant_b.headers, json=body)
        assert_error(other, 404, "not_found")
        assert other.json()["error"]["message"] == missing.json()["error"]["message"], path
        checked += 1
    assert checked >= 8
    assert (await api.get("/api/v1/auth/me", headers=tenant_a.headers)).json() == a_user
    after = (
        await api.get(
            fill("/api/v1/aam/connections/{connection_id}", ids), headers=tenant_a.headers
        )
    ).json()
    assert after == a_conn
    b_users = (await api.get("/api/v1/users", headers=tenant_b.headers)).json()
    assert [u["email"] for u in b_users["users"]] == [tenant_b.email]
    assert (await api.get("/api/v1/aam/connectors", headers=tenant_b.headers)).json()["total"] == 0
    b_audit = (await api.get("/api/v1/audit", headers=tenant_b.headers)).json()["entries"]
    assert all(e["target_id"] not in (a_user["id"], ids["connection_id"]) for e in b_audit)
