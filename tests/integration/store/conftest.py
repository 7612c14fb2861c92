"""Fixtures of the store tests."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from tests.conftest import _pg_admin, pg_urls


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
        return
    request.getfixturevalue("pg_database")  # skips (or fails in CI) without a server
    name = f"autonomos_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin([f"CREATE DATABASE {name}"]))
    yield pg_urls(name)[0]
    asyncio.run(_pg_admin([f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"]))
