"""Fixtures of the AAM integration tests: a database handle and a sync engine over a
temporary landing zone."""

from __future__ import annotations

from pathlib import Path

import pytest

from autonomos.aam.edge import EdgePolicies
from autonomos.aam.landing import LandingZone
from autonomos.aam.sync import SyncEngine
from autonomos.config import Settings
from autonomos.store.secrets import SecretBox
from autonomos.store.session import Database


@pytest.fixture
async def db(settings: Settings):
    database = Database(settings.app_database_url)
    yield database
    await database.dispose()


@pytest.fixture
def engine(db: Database, settings: Settings, tmp_path: Path) -> SyncEngine:
    return SyncEngine(
        db,
        LandingZone(tmp_path / "landing"),
        SecretBox.from_settings(settings),
        EdgePolicies(settings),
        backoff_s=0.01,
    )
