"""Fixtures of the AOA store tests: the migrated database (SQLite and Postgres), random
tenants, and a tenant's real DCL service with views built from rows a test gives."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from autonomos.config import Settings
from autonomos.dcl.service import DCLService
from autonomos.dcl.slices import FieldMapping, LandedFile, SliceSpec
from autonomos.store.session import Database


@pytest.fixture
async def db(settings: Settings, api: httpx.AsyncClient) -> AsyncIterator[Database]:
    """The app's database (``api`` has migrated it)."""
    database = Database(settings.app_database_url)
    yield database
    await database.dispose()


@pytest.fixture
def tid() -> uuid.UUID:
    return uuid.uuid4()


Load = Callable[[str, list[dict[str, Any]]], None]


@pytest.fixture
async def dcl(
    db: Database, tid: uuid.UUID, tmp_path: Path
) -> AsyncIterator[tuple[DCLService, Load]]:
    """The tenant's DCL service, and ``load(entity, rows)`` that lands the rows and
    materialises them (identity mappings) into its views."""
    landing = tmp_path / "landing"
    landing.mkdir()
    service = DCLService(db, tid, tmp_path / "views.duckdb", landing_dirs=(landing,))
    connection = str(uuid.uuid4())

    def load(entity: str, rows: list[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(rows)
        path = landing / f"{uuid.uuid4().hex}.parquet"
        pq.write_table(table, path)
        mappings = tuple(FieldMapping(c, c) for c in table.column_names)
        spec = SliceSpec(connection, entity, entity, mappings)
        batch = LandedFile(uuid.uuid4().hex, str(path), datetime.now(UTC))
        assert service.store.materialize(spec, [batch], full=True).mode == "full"

    # caught up (an empty registry: nothing to rebuild) before the rows loaded here, which
    # bypass the registry, so its first read does not drop them as a deleted connection's
    await service.ready()
    yield service, load
    await service.close()


@pytest.fixture
async def ray_api(
    ray_cluster: None, settings: Settings, api: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with syncs, the DCL and agent runs on Ray, in a namespace of its own (the
    session's ``api`` has migrated the database)."""
    from autonomos.serve_apps.api.app import create_app

    ray_settings = settings.model_copy(
        update={
            "sync_executor": "ray",
            "dcl_executor": None,
            "ray_namespace": f"agents-{uuid.uuid4().hex[:8]}",
            "auto_migrate": False,
        }
    )
    app = create_app(ray_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.settings = ray_settings  # type: ignore[attr-defined]
            client.runtime = app.state.runtime  # type: ignore[attr-defined]
            yield client
