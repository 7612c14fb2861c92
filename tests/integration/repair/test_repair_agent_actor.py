"""The RepairAgent Ray actor: named per tenant, idempotent, catches up after a restart."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
import ray

from autonomos.actors.naming import actor_name
from autonomos.actors.repair_agent import MAX_RESTARTS, RepairAgent, WrongTenantError
from autonomos.config import Settings
from tests.conftest import Tenant
from tests.integration.repair.factories import drifted_connection, tenant_id

API = "/api/v1/repair/proposals"


async def _kinds(api: httpx.AsyncClient, t: Tenant) -> dict[tuple[str, str], str]:
    body = (await api.get(API, headers=t.headers)).json()
    return {(p["kind"], p["source_field"]): p["status"] for p in body["proposals"]}


async def test_agent_handles_drift_once_and_catches_up_after_restart(
    ray_cluster: None,
    settings: Settings,
    api: httpx.AsyncClient,
    tenant_a: Tenant,
    tmp_path: Path,
) -> None:
    conn = await drifted_connection(api, tenant_a, tmp_path)
    tid = await tenant_id(api, tenant_a)
    name = actor_name("repair", tid)
    agent = RepairAgent.options(  # type: ignore[attr-defined]
        name=name, namespace=settings.ray_namespace, get_if_exists=True
    ).remote(settings, tid)
    try:
        assert (await agent.ping.remote())["tenant_id"] == str(tid)
        # the start-up catch-up and the hand-over race: exactly one of them does the work
        result = await agent.handle_drift.remote(
            {"id": conn["drift_event_id"], "tenant_id": str(tid)}
        )
        for _ in range(100):
            if not await agent.busy.remote():
                break
            await asyncio.sleep(0.1)
        kinds = await _kinds(api, tenant_a)
        assert kinds[("remap", "user_name")] == "applied"
        assert kinds[("remap", "deactivated")] == "pending"
        assert kinds[("mark_broken", "legacy_code")] == "pending"
        assert result["drift_event_id"] == conn["drift_event_id"]
        again = await agent.handle_drift.remote({"id": conn["drift_event_id"]})
        assert again["already_handled"] and again["created"] == []
        with pytest.raises(WrongTenantError):
            await agent.handle_drift.remote(
                {"id": conn["drift_event_id"], "tenant_id": str(uuid.uuid4())}
            )
        # a second drift while the agent is gone is caught up when it comes back
        ray.kill(agent, no_restart=True)
        second = await drifted_connection(api, tenant_a, tmp_path / "later")
        agent = RepairAgent.options(  # type: ignore[attr-defined]
            name=name, namespace=settings.ray_namespace, get_if_exists=True
        ).remote(settings, tid)
        for _ in range(100):
            body = (
                await api.get(
                    API, headers=tenant_a.headers, params={"connection_id": second["connection_id"]}
                )
            ).json()
            if body["total"]:
                break
            await asyncio.sleep(0.2)
        assert body["total"] >= 5
        assert await agent.catch_up.remote() == 0  # nothing left
    finally:
        ray.kill(agent, no_restart=True)


def test_actor_options() -> None:
    opts = RepairAgent._default_options  # type: ignore[attr-defined]
    assert opts["num_cpus"] == 0
    assert opts["max_restarts"] == MAX_RESTARTS and opts["max_task_retries"] > 0
