"""Finding 5: one refresh token presented twice at once rotates once; the other is reuse.

Rotation is one conditional update, so exactly one of two concurrent refreshes wins, and
the loser trips reuse detection, which revokes the family (the winner's new token too).
"""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import register

TRIES = 5


async def test_concurrent_refresh_rotates_once(api: httpx.AsyncClient) -> None:
    for _ in range(TRIES):
        t = await register(api, "refresh-race")
        token = t.tokens["refresh_token"]
        first, second = await asyncio.gather(
            *(api.post("/api/v1/auth/refresh", json={"refresh_token": token}) for _ in range(2))
        )
        assert sorted([first.status_code, second.status_code]) == [200, 401], (
            first.text,
            second.text,
        )
        winner = first if first.status_code == 200 else second
        # the loser was a reuse: the whole family is revoked, the winner's new token included
        again = await api.post(
            "/api/v1/auth/refresh", json={"refresh_token": winner.json()["refresh_token"]}
        )
        assert again.status_code == 401, again.text
        login = await api.post(
            "/api/v1/auth/login", json={"email": t.email, "password": t.password}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        audit = await api.get("/api/v1/audit?action=auth.refresh_reused", headers=headers)
        assert len(audit.json()["entries"]) == 1
