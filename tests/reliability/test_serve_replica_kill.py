"""One of two API replicas on Ray Serve killed under load: the error rate and how long
until every request succeeds again, and until Serve has replaced the replica."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
import ray
from ray import serve

from autonomos.config import Settings
from autonomos.serve_apps.api.deployment import APP_NAME, deploy
from tests.conftest import free_port
from tests.reliability.conftest import report

pytestmark = [pytest.mark.ray, pytest.mark.postgres, pytest.mark.slow]  # Serve start: ~1 min

WORKERS, BEFORE_S, AFTER_S = 8, 2.0, 8.0


def replicas() -> list[dict[str, str]]:
    return [
        a
        for a in ray.util.list_named_actors(all_namespaces=True)
        if a["name"].startswith("SERVE_REPLICA::") and f"::{APP_NAME}#" in a["name"]
    ]


@pytest.fixture
def serve_url(ray_cluster: None, rel_settings: Settings) -> Iterator[str]:
    port = free_port()
    deploy(rel_settings.model_copy(update={"serve_port": port, "serve_replicas": 2}))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.delete(APP_NAME)
        serve.shutdown()


async def test_replica_killed_under_load(serve_url: str) -> None:
    async with httpx.AsyncClient(base_url=serve_url, timeout=10) as client:
        deadline = time.monotonic() + 120
        while len(replicas()) < 2 or (await client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, "the API's two replicas did not come up"
            await asyncio.sleep(0.5)
        results: list[tuple[float, bool]] = []  # (when, ok)
        stop = asyncio.Event()

        async def load() -> None:
            while not stop.is_set():
                try:
                    ok = (await client.get("/readyz")).status_code == 200
                except httpx.HTTPError:
                    ok = False
                results.append((time.monotonic(), ok))

        workers = [asyncio.create_task(load()) for _ in range(WORKERS)]
        await asyncio.sleep(BEFORE_S)
        victim = replicas()[0]
        ray.kill(ray.get_actor(victim["name"], namespace=victim["namespace"]), no_restart=True)
        killed = time.monotonic()
        await asyncio.sleep(AFTER_S)
        stop.set()
        await asyncio.gather(*workers)
        replaced = None
        while replaced is None and time.monotonic() < killed + 90:
            names = {a["name"] for a in replicas()}
            if len(names) >= 2 and victim["name"] not in names:
                replaced = time.monotonic() - killed
            else:
                await asyncio.sleep(0.5)
    before = [ok for t, ok in results if t < killed]
    after = [(t, ok) for t, ok in results if t >= killed]
    failed_after = [t for t, ok in after if not ok]
    recovery = (max(failed_after) - killed) if failed_after else 0.0
    error_rate = len(failed_after) / max(1, len(after))
    assert before and all(before), "errors before the kill"
    assert after and all(ok for t, ok in after if t > killed + AFTER_S / 2), "not recovered"
    assert error_rate < 0.2
    assert replaced is not None, "Serve did not replace the killed replica"
    report(
        "serve replica killed under load",
        requests=len(results),
        req_per_s=len(results) / (BEFORE_S + AFTER_S),
        errors_after_kill=len(failed_after),
        error_rate_after_kill=error_rate,
        recovered_after_s=recovery,
        replica_replaced_after_s=replaced,
    )
