"""How the platform reaches a tenant's DCL: one small port, two adapters.

:class:`LocalDCL` holds a :class:`~autonomos.dcl.service.DCLService` per tenant in this
process (``dcl_executor=inline``: one process only, since a DuckDB file has one writer
process). ``autonomos.actors.dcl.RayDCL`` forwards every call to the tenant's ``DCL``
actor, the single writer of its file, which is why reads go through it too: DuckDB lets
no other process open a file that a writer holds. Which one a deployment uses is
decided in one place, the composition root (``autonomos/runtime.py``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from autonomos.dcl.browse import ViewRequest
from autonomos.dcl.encode import QueryResult
from autonomos.dcl.service import DCLService, LandingSource

if TYPE_CHECKING:
    from autonomos.config import Settings
    from autonomos.store.session import Database

log = logging.getLogger("autonomos.dcl.port")


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

    def __init__(
        self,
        settings: Settings,
        db: Database,
        landing: LandingSource,
        *,
        on_open: Callable[[uuid.UUID], Awaitable[Any]] | None = None,
    ) -> None:
        self.settings, self.db, self.landing = settings, db, landing
        self.on_open = on_open  # e.g. finish the tenant's refreshes a dead process left
        self._services: dict[uuid.UUID, DCLService] = {}
        self._opening = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()

    async def service(self, tenant_id: uuid.UUID) -> DCLService:
        found = self._services.get(tenant_id)
        if found is not None:
            return found
        async with self._opening:
            if tenant_id not in self._services:
                self._services[tenant_id] = await asyncio.to_thread(
                    DCLService.from_settings, self.settings, self.db, tenant_id, self.landing
                )
                if self.on_open is not None:
                    task = asyncio.ensure_future(self.on_open(tenant_id))
                    self._background.add(task)
                    task.add_done_callback(self._background.discard)
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
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        services, self._services = self._services, {}
        for service in services.values():
            await service.close()
