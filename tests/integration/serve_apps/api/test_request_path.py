"""The authenticated request path stays on the event loop: no thread hop, no query.

``GET /auth/me`` is what ``benchmarks/api_latency.py`` loads. With the caller's state
cached (``auth_state_cache_s``), a request must not wait on a worker thread (a sync
dependency, ``run_in_threadpool``, aiosqlite) nor send a statement to the database; a
change made through this process still shows on the very next request.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from tests.conftest import Tenant

ME = "/api/v1/auth/me"


class Hops:
    """What the requests under watch cost beyond the event loop."""

    def __init__(self) -> None:
        self.thread_wakeups = 0  # a worker thread handing a result back to the loop
        self.executor_calls = 0
        self.statements: list[str] = []


@contextmanager
def watch(api: httpx.AsyncClient) -> Iterator[Hops]:
    loop: Any = asyncio.get_running_loop()
    engine = api.runtime.db.engine.sync_engine  # type: ignore[attr-defined]
    hops = Hops()
    threadsafe, executor = loop.call_soon_threadsafe, loop.run_in_executor

    def counted_threadsafe(*args: Any, **kwargs: Any) -> Any:
        hops.thread_wakeups += 1
        return threadsafe(*args, **kwargs)

    def counted_executor(*args: Any, **kwargs: Any) -> Any:
        hops.executor_calls += 1
        return executor(*args, **kwargs)

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        hops.statements.append(sql)

    loop.call_soon_threadsafe, loop.run_in_executor = counted_threadsafe, counted_executor
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield hops
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        del loop.call_soon_threadsafe, loop.run_in_executor  # back to the class's methods


async def test_me_with_a_cached_state_hops_no_thread_and_sends_no_query(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    first = await api.get(ME, headers=tenant_a.headers)  # loads and caches the state
    assert first.status_code == 200, first.text
    with watch(api) as hops:
        answers = [await api.get(ME, headers=tenant_a.headers) for _ in range(20)]
    assert [r.status_code for r in answers] == [200] * 20
    assert all(r.json() == first.json() for r in answers)
    assert hops.statements == []
    assert (hops.thread_wakeups, hops.executor_calls) == (0, 0)


async def test_the_watch_sees_a_request_that_reads_the_database(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    """The watch itself can fail: a route that queries shows up in it."""
    assert (await api.get(ME, headers=tenant_a.headers)).status_code == 200
    with watch(api) as hops:
        r = await api.get("/api/v1/tenant", headers=tenant_a.headers)
    assert r.status_code == 200, r.text
    assert hops.statements
    if api.runtime.db.engine.dialect.driver == "aiosqlite":  # type: ignore[attr-defined]
        assert hops.thread_wakeups > 0  # aiosqlite runs each call on its own thread


async def test_me_shows_a_rename_at_once_and_a_missing_token_is_401(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    me = (await api.get(ME, headers=tenant_a.headers)).json()  # cached now
    r = await api.patch(
        f"/api/v1/users/{me['id']}", headers=tenant_a.headers, json={"full_name": "Ada L."}
    )
    assert r.status_code == 200, r.text
    after = (await api.get(ME, headers=tenant_a.headers)).json()
    assert after == {**me, "full_name": "Ada L."}
    assert (await api.get(ME)).status_code == 401
    assert (await api.get(ME, headers={"Authorization": "Bearer x.y.z"})).status_code == 401


async def test_an_expired_state_is_loaded_once_for_many_concurrent_requests(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    """When the cached state expires under load, the requests that miss share one query
    (and a change forgotten meanwhile is never cached from a load that predates it)."""
    states = api.runtime.auth.states  # type: ignore[attr-defined]
    me = (await api.get(ME, headers=tenant_a.headers)).json()
    states.forget_user(uuid.UUID(me["id"]))  # the next request must load again
    with watch(api) as hops:
        answers = await asyncio.gather(*(api.get(ME, headers=tenant_a.headers) for _ in range(16)))
    assert [r.status_code for r in answers] == [200] * 16
    user_reads = [sql for sql in hops.statements if "FROM users" in sql]
    assert len(user_reads) == 1, hops.statements
    assert not states._loading  # nothing left in flight


async def test_a_state_near_its_end_is_refreshed_ahead_while_the_caller_is_answered(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    states = api.runtime.auth.states  # type: ignore[attr-defined]
    me = (await api.get(ME, headers=tenant_a.headers)).json()
    (key,) = [k for k in states._entries if k[0] == uuid.UUID(me["id"])]
    soon = time.monotonic() + states.ttl_s / 10
    states._entries[key] = (soon, states._entries[key][1])  # most of its time spent
    assert (await api.get(ME, headers=tenant_a.headers)).json() == me  # the cached answer
    pending = states._loading.get(key)  # ...and a read of the current state behind it
    if pending is not None:  # (it may have finished while the answer was sent)
        await pending
    assert states._entries[key][0] > soon + states.ttl_s / 2  # renewed for a whole ttl
