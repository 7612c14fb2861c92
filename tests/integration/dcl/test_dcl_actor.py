"""The DCL actor: one per tenant, single writer of its DuckDB, restartable, passivated."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
import ray

from autonomos.actors.dcl import RayDCL
from autonomos.actors.naming import actor_name
from autonomos.config import Settings
from autonomos.dcl import registry
from autonomos.dcl.errors import QueryRejected
from autonomos.store.errors import NotFound
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.views import connect, demo_source, sync
from tests.integration.dcl.conftest import tenant_id

pytestmark = pytest.mark.ray


async def test_actor_materialises_serves_restarts_and_passivates(
    ray_cluster: None,
    api: httpx.AsyncClient,
    tenant_a: Tenant,
    settings: Settings,
    db: Database,
    tmp_path: Path,
) -> None:
    # The actor gets its own data dir: the API process already holds this tenant's file.
    actor_settings = settings.model_copy(
        update={
            "data_dir": tmp_path / "actor",
            "database_url": settings.app_database_url,
            "dcl_idle_s": 1.0,
        }
    )
    cid = await connect(api, tenant_a, demo_source(tmp_path, "salesforce_accounts.csv"))
    await sync(api, tenant_a, cid)
    tid = await tenant_id(api, tenant_a)
    async with db.tenant_session(tid) as s:
        for source, field in (("id", "account_id"), ("name", "name"), ("is_deleted", "is_deleted")):
            await registry.set_mapping(
                s,
                connection_id=uuid.UUID(cid),
                stream="salesforce_accounts",
                source_field=source,
                entity="account",
                field=field,
                decided_by="test",
            )
    dcl = RayDCL(actor_settings)
    name = actor_name("dcl", tid)
    try:
        report = await dcl.materialize(tid, uuid.UUID(cid))
        assert [(s["entity"], s["mode"], s["rows"]) for s in report["slices"]] == [
            ("account", "full", 197)
        ]
        assert (tmp_path / "actor" / "dcl" / f"{tid}.duckdb").exists()
        count = await dcl.query(tid, "SELECT count(*) FROM account")
        assert count.rows == [[197]]
        with pytest.raises(QueryRejected, match="COPY"):
            await dcl.query(tid, "COPY account TO '/tmp/x.csv'")
        with pytest.raises(NotFound):
            await dcl.materialize(tid, uuid.uuid4())
        # killed: Ray restarts it and it reopens the durable file
        ray.kill(ray.get_actor(name, namespace=settings.ray_namespace), no_restart=False)
        for _ in range(50):
            try:
                count = await dcl.query(tid, "SELECT count(*) FROM account")
                break
            except Exception:
                await asyncio.sleep(0.2)
        assert count.rows == [[197]]
        again = await dcl.materialize(tid, uuid.UUID(cid))
        assert [s["mode"] for s in again["slices"]] == ["unchanged"]
        # idle: it closes its file and exits; the next call recreates it
        for _ in range(100):
            await asyncio.sleep(0.2)
            try:
                ray.get_actor(name, namespace=settings.ray_namespace)
            except ValueError:
                break
        else:
            pytest.fail("the idle DCL actor did not passivate")
        views = {v["name"]: v for v in await dcl.list_views(tid)}
        assert views["account"]["rows"] == 197
    finally:
        try:
            ray.kill(ray.get_actor(name, namespace=settings.ray_namespace), no_restart=True)
        except ValueError:
            pass
