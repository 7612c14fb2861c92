"""Helpers for tests that drive the API on Ray: wait for a condition, sync a connection."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

TIMEOUT_S = 180


async def wait_for(check: Any, what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


async def sync(api: httpx.AsyncClient, headers: dict[str, str], cid: str) -> None:
    r = await api.post(f"/api/v1/aam/connections/{cid}/sync", headers=headers)
    assert r.status_code == 202, r.text
    run_id = r.json()["run_id"]

    async def finished() -> dict[str, Any] | None:
        run = (await api.get(f"/api/v1/aam/runs/{run_id}", headers=headers)).json()
        return run if run["status"] in ("succeeded", "failed", "cancelled") else None

    run = await wait_for(finished, f"sync run {run_id}")
    assert run["status"] == "succeeded", run

    async def refreshed() -> bool:  # the supervisor's pipeline records the run's refresh
        rows = (
            await api.get("/api/v1/dcl/refreshes", headers=headers, params={"connection_id": cid})
        ).json()["refreshes"]
        return any(r["reason"] == "sync" and r["status"] == "succeeded" for r in rows) and all(
            r["status"] in ("succeeded", "failed") for r in rows
        )

    await wait_for(refreshed, "the views to catch up with the run")
