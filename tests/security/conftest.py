"""Fixtures of the security tests: two tenants, each with one object of every kind."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.conftest import Tenant
from tests.security.harness import Estate, build_estate


@pytest.fixture(scope="session")
async def app_loop(api: httpx.AsyncClient) -> asyncio.AbstractEventLoop:
    """The event loop the ``api`` fixture's app (and its database pools) live on."""
    return asyncio.get_running_loop()


@pytest.fixture
async def estates(
    api: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, tmp_path: Path
) -> tuple[Estate, Estate]:
    """Tenant A's and tenant B's objects, one of every kind each."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    return (
        await build_estate(api, tenant_a, tmp_path / "a"),
        await build_estate(api, tenant_b, tmp_path / "b"),
    )
