"""Finding 3: a write is committed before its 2xx is sent.

Over a real server (the in-process transport hides the race): each object is read back
the moment its creation answered, 50 times, for connections and for users.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from autonomos.config import Settings
from autonomos.serve_apps.api.app import create_app
from tests.conftest import files_connection, register
from tests.security.live_server import serve

ROUNDS = 50


@pytest.fixture(scope="module")
def live(settings: Settings) -> Iterator[str]:
    with serve(create_app(settings)) as url:
        yield url


async def test_created_connection_is_readable_at_once(live: str, tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text("id,name\n1,Acme\n")
    async with httpx.AsyncClient(base_url=live, timeout=30) as c:
        t = await register(c, "commit-conn")
        missing = 0
        for _ in range(ROUNDS):
            cid = await files_connection(c, t, tmp_path)
            r = await c.get(f"/api/v1/aam/connections/{cid}", headers=t.headers)
            missing += r.status_code == 404
            assert r.status_code in (200, 404), r.text
        assert missing == 0, f"{missing} of {ROUNDS} connections were not there after their 201"


async def test_created_user_is_readable_at_once(live: str) -> None:
    async with httpx.AsyncClient(base_url=live, timeout=30) as c:
        t = await register(c, "commit-user")
        missing = 0
        for _ in range(ROUNDS):
            r = await c.post(
                "/api/v1/users",
                headers=t.headers,
                json={"email": f"u-{uuid.uuid4().hex[:10]}@example.com", "password": "x" * 14},
            )
            assert r.status_code == 201, r.text
            got = await c.get(f"/api/v1/users/{r.json()['id']}", headers=t.headers)
            assert got.status_code in (200, 404), got.text
            missing += got.status_code == 404
        assert missing == 0, f"{missing} of {ROUNDS} users were not there after their 201"
