"""/api/v1/events: history paging and filters, bad input, tenant scoping, retention.

The in-process app (SQLite and PostgreSQL); the live routes' streaming behaviour is in
tests/integration/events/test_live.py (real servers). What answers before a stream
starts (auth, validation) is checked here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from autonomos.config import Settings
from autonomos.events.log import EventLog
from autonomos.store.event_models import EventRow
from tests.conftest import Tenant, register
from tests.helpers.api import assert_error
from tests.helpers.events import emit, producer


@pytest.fixture
async def produced(settings: Settings) -> AsyncIterator[EventLog]:
    async with producer(settings) as event_log:
        yield event_log


async def _tid(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    return uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])


async def test_history_pages_and_filters(api: httpx.AsyncClient, produced: EventLog) -> None:
    t = await register(api, "hist")
    tid = await _tid(api, t)
    await emit(produced, tid, 3, type_="sync.queued")
    await emit(produced, tid, 2, type_="agent.run.failed")
    await emit(produced, tid, 1, type_="agent.finding")
    seen: list[int] = []
    after = None
    while True:
        params = {"limit": 4} if after is None else {"limit": 4, "after": after}
        r = await api.get("/api/v1/events", headers=t.headers, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        if not page["items"]:
            assert page["next_after"] is None
            break
        assert page["next_after"] == page["items"][-1]["id"]
        seen += [e["id"] for e in page["items"]]
        after = page["next_after"]
    assert seen == [1, 2, 3, 4, 5, 6]
    first = (await api.get("/api/v1/events", headers=t.headers)).json()["items"][0]
    assert set(first) == {"id", "type", "occurred_at", "subject", "payload"}
    assert first["subject"] == {"job_id": "j0"} and first["payload"] == {"n": 0}
    assert first["occurred_at"].endswith("Z") or first["occurred_at"].endswith("+00:00")

    async def types(filter_: str, **params: object) -> list[str]:
        r = await api.get("/api/v1/events", headers=t.headers, params={"types": filter_, **params})
        assert r.status_code == 200, r.text
        return [e["type"] for e in r.json()["items"]]

    assert await types("agent.*") == ["agent.run.failed"] * 2 + ["agent.finding"]
    assert (
        await types("agent.run.*, sync.queued", after=2)
        == ["sync.queued"] + ["agent.run.failed"] * 2
    )
    assert await types("agent.finding") == ["agent.finding"]
    assert await types("job.*") == []


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"types": "sync.exploded"}, "unknown event type"),
        ({"types": "nothing.*"}, "no event type starts with"),
        ({"after": -1}, "greater than or equal"),
        ({"after": "abc"}, "integer"),
        ({"limit": 0}, "greater than or equal"),
        ({"limit": 501}, "less than or equal"),
        ({"after": 10**30}, "less than or equal"),
    ],
)
async def test_bad_history_queries_are_422(
    api: httpx.AsyncClient, tenant_a: Tenant, params: dict[str, object], needle: str
) -> None:
    error = assert_error(
        await api.get("/api/v1/events", headers=tenant_a.headers, params=params),
        422,
        "validation_error",
    )
    assert needle in str(error), error


async def test_stream_refuses_before_streaming(
    api: httpx.AsyncClient, tenant_a: Tenant, produced: EventLog
) -> None:
    """Auth and bad input answer at once, in the one error shape (never a stream)."""
    url = "/api/v1/events/stream"
    assert_error(await api.get(url), 401, "unauthorized")
    assert_error(await api.get("/api/v1/events"), 401, "unauthorized")
    h = tenant_a.headers
    last = await produced.last_id(await _tid(api, tenant_a))
    for headers, params, needle in [
        (h, {"types": "sync.nope"}, "unknown event type"),
        (h, {"after": last + 1}, "beyond this tenant's newest event"),
        ({**h, "Last-Event-ID": "abc"}, {}, "Last-Event-ID"),
        ({**h, "Last-Event-ID": str(last + 5)}, {"after": 0}, "beyond"),
        (h, {"after": -3}, "greater than or equal"),
    ]:
        error = assert_error(
            await api.get(url, headers=headers, params=params), 422, "validation_error"
        )
        assert needle in str(error), (params, error)


async def test_history_is_tenant_scoped(api: httpx.AsyncClient, produced: EventLog) -> None:
    a, b = await register(api, "ha"), await register(api, "hb")
    await emit(produced, await _tid(api, a), 5, type_="drift.detected", who="a")
    await emit(produced, await _tid(api, b), 1, type_="drift.detected", who="b")
    for params in ({}, {"after": 0}, {"types": "drift.*"}, {"after": 0, "limit": 500}):
        items = (await api.get("/api/v1/events", headers=b.headers, params=params)).json()
        assert [(e["id"], e["payload"]["who"]) for e in items["items"]] == [(1, "b")]
    # an id of A's log names nothing of A's for B
    r = await api.get("/api/v1/events", headers=b.headers, params={"after": 3})
    assert r.json() == {"items": [], "next_after": None}


async def test_the_sweep_applies_the_retention_setting(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    t = await register(api, "ret")
    tid = await _tid(api, t)
    async with producer(settings, event_retention_days=7) as event_log:
        assert event_log.retention == timedelta(days=7)
        await emit(event_log, tid, 3, type_="views.refreshed")
        now = datetime.now(UTC)
        async with event_log.db.tenant_session(tid) as s:  # events 1 and 2 grew old
            for seq, age in ((1, 9), (2, 8), (3, 6)):
                await s.execute(
                    update(EventRow)
                    .where(EventRow.seq == seq)
                    .values(occurred_at=now - timedelta(days=age))
                )
        await event_log.sweep()
        items = (await api.get("/api/v1/events", headers=t.headers)).json()["items"]
        assert [e["id"] for e in items] == [3]
        await emit(event_log, tid, 1, type_="views.refreshed")  # ids are never reused
        items = (await api.get("/api/v1/events", headers=t.headers)).json()["items"]
        assert [e["id"] for e in items] == [3, 4]
