"""How the API reaches a tenant's DCL: one small port, two adapters.

:class:`LocalDCL` holds a :class:`~autonomos.dcl.service.DCLService` per tenant in this
process (``dcl_executor=inline``: one process only, since a DuckDB file has one writer
process). ``autonomos.actors.dcl.RayDCL`` forwards every call to the tenant's ``DCL``
actor, the single writer of its file, which is why reads go through it too: DuckDB lets
no other process open a file that a writer holds.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from autonomos.dcl.browse import ViewRequest
from autonomos.dcl.encode import QueryResult
from autonomos.dcl.service import DCLService

if TYPE_CHECKING:
    from autonomos.config import Settings
    from autonomos.store.session import Database

log = logging.getLogger("autonomos.dcl.port")
T = TypeVar("T")


class DCLPort(Protocol):
    async def materialize(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        streams: Iterable[str] | None = None,
        *,
        full: bool = False,
    ) -> dict[str, Any]: ...

    async def drop_connection(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID
    ) -> dict[str, Any]: ...

    async def list_views(self, tenant_id: uuid.UUID) -> list[dict[str, Any]]: ...

    async def read_view(
        self, tenant_id: uuid.UUID, name: str, request: ViewRequest
    ) -> dict[str, Any]: ...

    async def query(
        self,
        tenant_id: uuid.UUID,
        sql: str,
        *,
        limit: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult: ...

    async def close(self) -> None: ...


class LocalDCL:
    """Per-tenant services in this process, opened on first use and kept until close.

    Restriction: services are not evicted, so one process holds one DuckDB instance per
    tenant it has served (the Ray executor passivates idle tenants instead).
    """

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self.db = settings, db
        self._services: dict[uuid.UUID, DCLService] = {}
        self._opening = asyncio.Lock()

    async def service(self, tenant_id: uuid.UUID) -> DCLService:
        found = self._services.get(tenant_id)
        if found is not None:
            return found
        async with self._opening:
            if tenant_id not in self._services:
                self._services[tenant_id] = await asyncio.to_thread(
                    DCLService.from_settings, self.settings, self.db, tenant_id
                )
            return self._services[tenant_id]

    async def materialize(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        streams: Iterable[str] | None = None,
        *,
        full: bool = False,
    ) -> dict[str, Any]:
        service = await self.service(tenant_id)
        return await service.materialize(connection_id, streams, full=full)

    async def drop_connection(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID
    ) -> dict[str, Any]:
        return await (await self.service(tenant_id)).drop_connection(connection_id)

    async def list_views(self, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
        return await (await self.service(tenant_id)).list_views()

    async def read_view(
        self, tenant_id: uuid.UUID, name: str, request: ViewRequest
    ) -> dict[str, Any]:
        return await (await self.service(tenant_id)).read_view(name, request)

    async def query(
        self,
        tenant_id: uuid.UUID,
        sql: str,
        *,
        limit: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        service = await self.service(tenant_id)
        return await service.query(sql, limit=limit, timeout_s=timeout_s)

    async def close(self) -> None:
        services, self._services = self._services, {}
        for service in services.values():
            await service.close()


def build_dcl(settings: Settings, db: Database) -> DCLPort:
    """The adapter ``settings`` ask for (``dcl_executor``, default the sync executor)."""
    if not settings.dcl_in_ray:
        return LocalDCL(settings, db)
    from autonomos.actors.dcl import RayDCL  # Ray only where the DCL runs in actors

    return RayDCL(settings)


def materializing(
    run: Callable[[uuid.UUID, uuid.UUID], Coroutine[Any, Any, T]], dcl: DCLPort, db: Database
) -> Callable[[uuid.UUID, uuid.UUID], Coroutine[Any, Any, T]]:
    """``run`` (a sync run executor), then materialise what the run landed.

    For the in-process sync executor; with Ray, the tenant supervisor does the same after
    each run. A run that landed nothing changes no view; a materialisation error is logged
    and never changes the run's outcome.
    """
    from autonomos.store.aam_models import SyncRun

    async def run_then_materialize(tenant_id: uuid.UUID, run_id: uuid.UUID) -> T:
        status = await run(tenant_id, run_id)
        try:
            async with db.tenant_session(tenant_id) as s:
                done = await s.get(SyncRun, run_id)
            if done is not None and done.records_written:
                await dcl.materialize(tenant_id, done.connection_id, done.streams or None)
        except Exception:
            log.exception("tenant %s: materialising after run %s failed", tenant_id, run_id)
        return status

    return run_then_materialize
