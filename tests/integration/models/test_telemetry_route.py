"""GET /api/v1/telemetry/llm: the caller's tenant's usage only, any role, day range."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from autonomos.models.telemetry import get_recorder
from tests.conftest import Tenant
from tests.helpers.api import add_user, assert_error

URL = "/api/v1/telemetry/llm"


async def tenant_id(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    return uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])


async def test_usage_is_per_tenant(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    recorder = get_recorder(api.runtime.settings)  # type: ignore[attr-defined]
    a = await tenant_id(api, tenant_a)
    recorder.record(a, "llm", "gpt-x", input_tokens=120, output_tokens=8, latency_ms=40)
    recorder.record(a, "llm", "gpt-x", input_tokens=80, output_tokens=4, latency_ms=20, error=True)
    recorder.record(a, "embedding", "minilm", items=64, cached=60, input_tokens=700, latency_ms=9)

    r = await api.get(URL, headers=tenant_a.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["since"] is None and body["until"] is None
    usage = {(u["kind"], u["model"]): u for u in body["usage"]}
    assert set(usage) == {("embedding", "minilm"), ("llm", "gpt-x")}
    llm = usage[("llm", "gpt-x")]
    assert (llm["calls"], llm["input_tokens"], llm["output_tokens"], llm["errors"]) == (
        2,
        200,
        12,
        1,
    )
    assert llm["latency_ms_total"] == 60 and llm["latency_ms_avg"] == 30
    assert llm["first_day"] == llm["last_day"] == datetime.now(UTC).date().isoformat()
    emb = usage[("embedding", "minilm")]
    assert (emb["items"], emb["cached"], emb["input_tokens"]) == (64, 60, 700)

    r = await api.get(URL, headers=tenant_b.headers)
    assert r.status_code == 200 and r.json()["usage"] == []
    # a second read does not count anything twice
    again = (await api.get(URL, headers=tenant_a.headers)).json()["usage"]
    assert {(u["kind"], u["model"]): u["calls"] for u in again} == {
        ("embedding", "minilm"): 1,
        ("llm", "gpt-x"): 2,
    }


async def test_day_range(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    recorder = get_recorder(api.runtime.settings)  # type: ignore[attr-defined]
    a = await tenant_id(api, tenant_a)
    now = datetime.now(UTC)
    recorder.record(a, "llm", "m", input_tokens=1, at=now - timedelta(days=10))
    recorder.record(a, "llm", "m", input_tokens=2, at=now - timedelta(days=2))
    recorder.record(a, "llm", "m", input_tokens=4, at=now)

    async def tokens(**params: str) -> int:
        r = await api.get(URL, headers=tenant_a.headers, params=params)
        assert r.status_code == 200, r.text
        return sum(u["input_tokens"] for u in r.json()["usage"])

    today, two_ago = now.date(), (now - timedelta(days=2)).date()
    assert await tokens() == 7
    assert await tokens(since=two_ago.isoformat()) == 6
    assert await tokens(until=two_ago.isoformat()) == 3
    assert await tokens(since=two_ago.isoformat(), until=two_ago.isoformat()) == 2
    assert await tokens(since=(today + timedelta(days=1)).isoformat()) == 0
    r = await api.get(URL, headers=tenant_a.headers, params={"since": today, "until": two_ago})
    assert_error(r, 422, "validation_error")
    r = await api.get(URL, headers=tenant_a.headers, params={"since": "last week"})
    assert_error(r, 422, "validation_error")


async def test_any_role_reads_none_without_a_token(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    viewer = await add_user(api, tenant_a, "viewer")
    assert (await api.get(URL, headers=viewer.headers)).status_code == 200
    assert_error(await api.get(URL), 401, "unauthorized")
