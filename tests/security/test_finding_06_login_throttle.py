"""Finding 6: failed logins are counted atomically, per (account, client address), and a
throttled account answers exactly like an unknown one.

- 30 concurrent wrong passwords: no more than the limit reach the password check.
- A stranger failing from another address does not keep the owner out.
- Known and unknown e-mails get the same status, body and headers at every step.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from autonomos.config import Settings
from tests.conftest import Tenant, register

LOGIN = "/api/v1/auth/login"


def client_from(api: httpx.AsyncClient, address: str) -> httpx.AsyncClient:
    """Another client of the same running app, seen as coming from ``address``."""
    transport = httpx.ASGITransport(
        app=api.app,  # type: ignore[attr-defined]
        client=(address, 40_000),
        raise_app_exceptions=False,
    )
    return httpx.AsyncClient(transport=transport, base_url="http://api")


@pytest.fixture
async def counted_checks(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[list[int]]:
    """How many password checks (real or dummy) the app runs, wrapped around the real ones."""
    passwords = api.runtime.auth.passwords  # type: ignore[attr-defined]
    calls = [0]

    def counting(fn: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            return await fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(passwords, "verify", counting(passwords.verify))
    monkeypatch.setattr(passwords, "dummy_verify", counting(passwords.dummy_verify))
    yield calls


async def test_concurrent_failures_reach_the_check_at_most_the_limit(
    api: httpx.AsyncClient, settings: Settings, counted_checks: list[int]
) -> None:
    t = await register(api, "burst")
    counted_checks[0] = 0
    answers = await asyncio.gather(
        *(api.post(LOGIN, json={"email": t.email, "password": f"wrong-{i}"}) for i in range(30))
    )
    assert {r.status_code for r in answers} == {401, 429}
    assert counted_checks[0] <= settings.login_max_failures, counted_checks[0]
    assert sum(r.status_code == 401 for r in answers) == counted_checks[0]


async def test_a_strangers_failures_do_not_block_the_owner(api: httpx.AsyncClient) -> None:
    t = await register(api, "owner")
    async with (
        client_from(api, "203.0.113.9") as stranger,
        client_from(api, "198.51.100.7") as owner,
    ):
        codes = [
            (await stranger.post(LOGIN, json={"email": t.email, "password": "guess"})).status_code
            for _ in range(10)
        ]
        assert codes[-1] == 429, codes  # the stranger is slowed down...
        r = await owner.post(LOGIN, json={"email": t.email, "password": t.password})
        assert r.status_code == 200, r.text  # ...the owner is not


def _shape(r: httpx.Response) -> tuple[int, dict[str, Any], set[str]]:
    body = r.json()
    details = body["error"].get("details") or {}
    if "retry_after_s" in details:
        details["retry_after_s"] = "<n>"
    return r.status_code, body, set(r.headers) - {"date", "x-request-id"}


async def test_unknown_and_known_accounts_answer_alike(api: httpx.AsyncClient) -> None:
    t: Tenant = await register(api, "alike")
    ghost = f"ghost-{uuid.uuid4().hex[:8]}@example.com"
    for attempt in range(6):
        known = await api.post(LOGIN, json={"email": t.email, "password": "wrong pw"})
        unknown = await api.post(LOGIN, json={"email": ghost, "password": "wrong pw"})
        assert _shape(known) == _shape(unknown), (attempt, known.text, unknown.text)
        if known.status_code == 429:
            assert abs(int(known.headers["retry-after"]) - int(unknown.headers["retry-after"])) <= 1
    assert known.status_code == 429  # the limit (3 in the test settings) was passed
