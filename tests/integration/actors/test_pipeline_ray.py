"""The default deployment's path from a drifted export to the views, on Ray.

The API runs with ``sync_executor=ray``: syncs run in the tenant's connector actor, the
supervisor runs the after-sync pipeline with its children (drift monitor, repair agent,
DCL actor), and approvals over HTTP refresh the views through the tenant's ``dcl``
actor. Same scenario as tests/integration/aam/test_approvals_reach_views.py (inline):
approve, see the new values; roll back, see them go; every refresh recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray

from autonomos.actors.naming import actor_name
from autonomos.config import Settings
from tests.conftest import register
from tests.helpers.drift import REPAIR, drifted_export, new_values
from tests.helpers.ray_api import sync, wait_for
from tests.helpers.views import MOCK, connect, map_stream

pytestmark = pytest.mark.ray

LIVE_ACCOUNTS = 197


@pytest.fixture
async def ray_api(ray_cluster: None, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app as `up` configures it (syncs, DCL and repairs in per-tenant actors), in a
    namespace of its own so its actors are this test's."""
    from autonomos.serve_apps.api.app import create_app

    ray_settings = settings.model_copy(
        update={
            "sync_executor": "ray",
            "dcl_executor": None,
            "ray_namespace": f"pipeline-{uuid.uuid4().hex[:8]}",
            "auto_migrate": False,
        }
    )
    app = create_app(ray_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.settings = ray_settings  # type: ignore[attr-defined]
            yield client


async def test_approvals_reach_the_views_on_ray(ray_api: httpx.AsyncClient, tmp_path: Path) -> None:
    api = ray_api
    t = await register(api, "ray")
    me = (await api.get("/api/v1/auth/me", headers=t.headers)).json()
    tid = uuid.UUID(me["tenant_id"])
    namespace = api.settings.ray_namespace  # type: ignore[attr-defined]
    try:
        src = tmp_path / "crm"
        src.mkdir()
        original = (MOCK / "salesforce_accounts.csv").read_text()
        (src / "salesforce_accounts.csv").write_text(original)
        cid = await connect(api, t, src)
        await sync(api, t.headers, cid)
        await map_stream(
            api,
            t,
            cid,
            "salesforce_accounts",
            "account",
            {
                "Id": ("account_id", None),
                "Name": ("name", None),
                "Phone": ("phone", None),
                "AnnualRevenue": ("annual_revenue", None),
                "IsDeleted": ("is_deleted", None),
            },
        )
        assert await new_values(api, t) == (0, 0)
        r = await api.put(f"{REPAIR}/settings", headers=t.headers, json={"auto_apply": False})
        assert r.status_code == 200, r.text

        (src / "salesforce_accounts.csv").write_text(drifted_export(original))
        await sync(api, t.headers, cid)

        async def proposals() -> list[dict[str, Any]]:
            r = await api.get(
                f"{REPAIR}/proposals",
                headers=t.headers,
                params={"status": "pending", "connection_id": cid},
            )
            return list(r.json()["proposals"])

        pending = await wait_for(proposals, "the repair agent's proposals")
        pending.sort(key=lambda p: p["kind"] != "mark_broken")
        for p in pending:
            r = await api.post(f"{REPAIR}/proposals/{p['id']}/approve", headers=t.headers)
            assert r.status_code == 200, r.text
            if any(not step["noop"] for step in r.json()["applied"]):
                assert r.json()["refresh"]["status"] == "succeeded", r.json()["refresh"]
        assert await new_values(api, t) == (LIVE_ACCOUNTS, LIVE_ACCOUNTS)

        applied = (
            await api.get(
                f"{REPAIR}/proposals",
                headers=t.headers,
                params={"status": "applied", "connection_id": cid},
            )
        ).json()["proposals"]
        phone = [
            p for p in applied if p["target"] == "account.phone" and p["kind"] != "mark_broken"
        ]
        r = await api.post(f"{REPAIR}/proposals/{phone[0]['id']}/rollback", headers=t.headers)
        assert r.status_code == 200, r.text
        assert r.json()["refresh"]["status"] == "succeeded"
        assert (await new_values(api, t))[0] == 0
    finally:
        for kind in ("supervisor", "dcl"):
            try:
                ray.kill(ray.get_actor(actor_name(kind, tid), namespace=namespace))
            except ValueError:
                pass


async def test_rows_removed_from_an_export_leave_the_views_on_ray(
    ray_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Deletes in complete snapshots take the same path on Ray: the connector actor's run
    applies the snapshot, the supervisor's pipeline refreshes the ``dcl`` actor's views."""
    api = ray_api
    t = await register(api, "ray-snap")
    tid = uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])
    namespace = api.settings.ray_namespace  # type: ignore[attr-defined]
    try:
        src = tmp_path / "crm"
        src.mkdir()
        lines = (MOCK / "salesforce_accounts.csv").read_text().splitlines(keepends=True)
        (src / "salesforce_accounts.csv").write_text("".join(lines))
        cid = await connect(api, t, src)
        await sync(api, t.headers, cid)
        await map_stream(
            api,
            t,
            cid,
            "salesforce_accounts",
            "account",
            {"Id": ("account_id", None), "IsDeleted": ("is_deleted", None)},
        )
        r = await api.post(
            "/api/v1/dcl/materialize", headers=t.headers, json={"connection_id": cid}
        )
        assert r.status_code == 200, r.text

        async def ids() -> set[str]:
            r = await api.post(
                "/api/v1/dcl/query",
                headers=t.headers,
                json={"sql": "SELECT account_id FROM account", "limit": 1000},
            )
            assert r.status_code == 200, r.text
            return {row[0] for row in r.json()["rows"]}

        before = await ids()
        assert len(before) == LIVE_ACCOUNTS
        gone = {line.split(",", 1)[0] for line in lines[1:11]} & before  # live among the first
        assert gone
        kept = [ln for ln in lines if ln.split(",", 1)[0] not in gone]
        (src / "salesforce_accounts.csv").write_text("".join(kept))
        await sync(api, t.headers, cid)

        async def deleted() -> bool:
            return await ids() == before - gone

        await wait_for(deleted, "the removed rows to leave the account view")
    finally:
        for kind in ("supervisor", "dcl"):
            try:
                ray.kill(ray.get_actor(actor_name(kind, tid), namespace=namespace))
            except ValueError:
                pass
