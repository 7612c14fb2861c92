"""Helpers for the edge tests (files connector paths, SSRF, secrets that follow a host).

``lab_api``: an app whose settings allow plain ``http`` and allow-list the *name*
``localhost`` only, so a local test server is reachable by that name while the
literal loopback address (and every other private one) is still refused. Imported by
the test modules that need it (not a conftest: other test modules share this folder).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from autonomos.config import Settings
from tests.conftest import Tenant, make_settings

CONNECTIONS = "/api/v1/aam/connections"


@pytest.fixture(scope="module")
async def lab_api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    from autonomos.serve_apps.api.app import create_app

    settings = make_settings(
        tmp_path_factory.mktemp("lab-data"),
        files_schemes=["https", "http"],
        files_allowed_hosts=["localhost"],
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def app_settings(api: httpx.AsyncClient) -> Settings:
    return api.runtime.settings  # type: ignore[attr-defined,no-any-return]


async def tenant_id(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    return uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])


async def create_connection(
    api: httpx.AsyncClient, t: Tenant, config: dict, source_type: str = "files"
) -> httpx.Response:
    return await api.post(
        CONNECTIONS,
        headers=t.headers,
        json={"name": f"c-{uuid.uuid4().hex[:8]}", "source_type": source_type, "config": config},
    )


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n")
    return path
