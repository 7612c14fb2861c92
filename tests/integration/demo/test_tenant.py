"""The demo tenant: the one whose login `up` created and saved, never found by its name."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import anyio

from autonomos.aam.edge import EdgePolicies
from autonomos.auth.service import AuthService
from autonomos.config import Settings
from autonomos.demo.tenant import (
    DEMO_EMAIL,
    DEMO_TENANT,
    MOCK_SOURCES,
    credentials_file,
    ensure_demo_tenant,
)
from autonomos.store import migrate
from autonomos.store.session import Database
from tests.conftest import make_settings


async def fresh(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path / "data", files_roots=[])
    await anyio.to_thread.run_sync(migrate.upgrade, settings.owner_database_url)
    return settings


async def reads_mock_sources(settings: Settings, tenant_id) -> bool:  # type: ignore[no-untyped-def]
    db = Database(settings.app_database_url)
    try:
        async with db.tenant_session(tenant_id) as s:
            edge = await EdgePolicies(settings).for_tenant(s, tenant_id)
    finally:
        await db.dispose()
    return edge.local.allows(MOCK_SOURCES.resolve() / "salesforce_accounts.csv")


async def test_up_creates_the_demo_once_and_grants_it_mock_sources(tmp_path: Path) -> None:
    settings = await fresh(tmp_path)
    demo = await ensure_demo_tenant(settings)
    assert demo is not None
    assert await ensure_demo_tenant(settings) == demo
    assert json.loads(credentials_file(settings).read_text())["email"]
    assert await reads_mock_sources(settings, demo)


async def squat(settings: Settings, email: str) -> uuid.UUID:
    """Someone self-registers a tenant named like the demo; its id."""
    db = Database(settings.app_database_url)
    try:
        tenant, _ = await AuthService.from_settings(settings, db).create_tenant(
            DEMO_TENANT, email, "correct horse battery"
        )
    finally:
        await db.dispose()
    return tenant.id


async def test_a_tenant_registered_as_demo_corp_gets_nothing(tmp_path: Path) -> None:
    settings = await fresh(tmp_path)
    squatter = await squat(settings, "squatter@example.com")
    demo = await ensure_demo_tenant(settings)  # `up` makes its own: names prove nothing
    assert demo is not None and demo != squatter
    assert await reads_mock_sources(settings, demo)
    assert not await reads_mock_sources(settings, squatter)


async def test_a_squatter_on_the_demo_login_gets_nothing(tmp_path: Path) -> None:
    settings = await fresh(tmp_path)
    squatter = await squat(settings, DEMO_EMAIL)
    assert await ensure_demo_tenant(settings) is None  # `up` stops and says so
    assert not await reads_mock_sources(settings, squatter)
