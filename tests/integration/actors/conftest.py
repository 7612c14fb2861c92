"""Fixtures shared by the actor tests (the local Ray cluster is the session's)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import ray

from autonomos.actors.launcher import RaySyncLauncher
from autonomos.actors.naming import actor_name
from autonomos.config import Settings
from autonomos.store.session import Database


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.app_database_url)
    yield database
    await database.dispose()


@pytest.fixture
def cleanup(ray_cluster: None, settings: Settings) -> Iterator[list[uuid.UUID]]:
    """Tenants whose supervisor (and so, by fate-sharing, its children) is killed after."""
    tenants: list[uuid.UUID] = []
    yield tenants
    for tid in tenants:
        try:
            ray.kill(ray.get_actor(actor_name("supervisor", tid), namespace=settings.ray_namespace))
        except ValueError:
            pass


@pytest.fixture
def launcher(ray_cluster: None, settings: Settings) -> RaySyncLauncher:
    return RaySyncLauncher(settings, check_s=0.2)
