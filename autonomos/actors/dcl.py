"""The ``DCL`` actor: the single writer (and reader) of one tenant's DuckDB file.

Named ``dcl:<tenant_id>`` in the AutonomOS namespace, detached, created on first use by
whoever needs it (:func:`dcl_handle`; virtual actor). It is a thin shell around
:class:`~autonomos.dcl.service.DCLService`: all state is durable (SQL metadata, landed
Parquet, the DuckDB file), so Ray can restart it (``max_restarts``) and retry its calls
(``max_task_retries``): materialisations are idempotent and reads have no effect. Reads
go through the actor too, because no other process may open a DuckDB file that a writer
holds. Idle for ``dcl_idle_s``, it closes the file and exits (passivation); the next call
recreates it. On every start it also finishes the tenant's view refreshes that a dead
process left unfinished (``view_refreshes``: queued, or running for too long).

The DuckDB file is node-local and derived: the actor keeps it in its node's
``AUTONOMOS_DCL_DIR`` when the node sets one (else the settings' ``dcl_location``), and,
started on a node without it (restarted after its node died, placed on a new node), it
rebuilds the views from the landing zone and the mapping registry before it serves its
first read (``DCLService.ready``). Where it runs follows ``AUTONOMOS_ACTOR_NODE_LABELS``
(a preference: see ``actors/placement.py``).

:class:`RayDCL` is the adapter (``autonomos.dcl.port.DCLPort``) onto these actors, used
by the API and by other actors.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
from ray.exceptions import ActorDiedError, ActorUnavailableError, RayTaskError

from autonomos.actors.naming import actor_name
from autonomos.actors.process import process_info
from autonomos.actors.warm import get_or_create
from autonomos.dcl.errors import DCLUnavailable

if TYPE_CHECKING:
    from autonomos.config import Settings
    from autonomos.dcl.browse import ViewRequest
    from autonomos.dcl.encode import QueryResult

log = logging.getLogger("autonomos.actors.dcl")

MAX_RESTARTS = 10
MAX_TASK_RETRIES = 3
IDLE_CHECK_S = 5.0


@ray.remote(num_cpus=0, max_restarts=MAX_RESTARTS, max_task_retries=MAX_TASK_RETRIES)
class DCL:
    """Named ``dcl:<tenant>``; see the module docstring."""

    def __init__(self, settings: Settings, tenant_id: uuid.UUID) -> None:
        from autonomos.aam.landing import LandingZone
        from autonomos.common.private_files import restrict_umask
        from autonomos.dcl.refresh import ViewRefresher
        from autonomos.dcl.service import DCLService
        from autonomos.events.log import EventLog
        from autonomos.store.session import Database

        restrict_umask()  # the tenant's DuckDB files are private (0600)
        settings = on_this_node(settings)
        self.tenant_id = tenant_id
        db = Database(settings.app_database_url)
        self.events = EventLog.from_settings(settings, db)  # views.* of the refreshes it recovers
        self.service = DCLService.from_settings(
            settings, db, tenant_id, LandingZone.from_settings(settings)
        )
        self.idle_s = settings.dcl_idle_s
        self._busy = 0
        self._last = time.monotonic()
        # Ray runs an async actor's __init__ inside its event loop.
        loop = asyncio.get_running_loop()
        self._idle = loop.create_task(self._passivate_when_idle())
        from autonomos.actors.agents import RayAgentRunner
        from autonomos.agents.runner import after_materialize

        agents = after_materialize(db, RayAgentRunner(settings))
        self._recovered = loop.create_task(
            self._recover(ViewRefresher(db, _Own(self), on_materialized=agents))
        )

    async def materialize(
        self, connection_id: uuid.UUID, streams: list[str] | None = None, full: bool = False
    ) -> dict[str, Any]:
        """Bring the connection's slices up to date (incremental unless ``full``)."""
        return await self._run(self.service.materialize(connection_id, streams, full=full))

    async def _recover(self, refresher: Any) -> None:
        try:
            await refresher.recover(self.tenant_id)
        except Exception:
            log.exception("dcl %s: finishing earlier view refreshes failed", self.tenant_id)

    async def drop_connection(self, connection_id: uuid.UUID) -> dict[str, Any]:
        return await self._run(self.service.drop_connection(connection_id))

    async def list_views(self) -> list[dict[str, Any]]:
        return await self._run(self.service.list_views())

    async def read_view(self, name: str, request: ViewRequest) -> dict[str, Any]:
        return await self._run(self.service.read_view(name, request))

    async def query(
        self, sql: str, limit: int | None = None, timeout_s: float | None = None
    ) -> QueryResult:
        return await self._run(self.service.query(sql, limit=limit, timeout_s=timeout_s))

    async def analyze(self, code: str, params: dict[str, Any]) -> dict[str, Any]:
        """Internal agent ``code`` on a read cursor of the views; its report as JSON data."""
        from autonomos.agents.builtin import run_analysis

        return await self._run(self.service.read(partial(run_analysis, code=code, params=params)))

    def ping(self) -> dict[str, Any]:
        """Liveness, and where this actor is: its node, its file and how it caught up."""
        return {
            "tenant_id": str(self.tenant_id),
            "busy": self._busy,
            "node_id": ray.get_runtime_context().get_node_id(),
            "path": str(self.service.store.path),
            "caught_up": self.service.caught_up,
            **process_info(),
        }

    async def ready(self) -> dict[str, Any]:
        """Catch the views up now (else done before the first read); the report."""
        return await self._run(self.service.ready())

    def busy(self) -> bool:
        """Work in flight (the supervisor does not passivate a busy child)."""
        return self._busy > 0

    async def _run(self, work: Any) -> Any:
        self._busy += 1
        try:
            return await work
        finally:
            self._busy -= 1
            self._last = time.monotonic()

    async def _passivate_when_idle(self) -> None:
        while True:
            await asyncio.sleep(min(IDLE_CHECK_S, self.idle_s))
            if self._busy or time.monotonic() - self._last < self.idle_s:
                continue
            log.info("dcl %s: idle for %.0f s, passivating", self.tenant_id, self.idle_s)
            await self.service.close()
            await self.events.close()
            ray.kill(ray.get_runtime_context().current_actor, no_restart=True)
            return


def on_this_node(settings: Settings) -> Settings:
    """``settings`` with this node's own DuckDB folder: a node started with
    ``AUTONOMOS_DCL_DIR`` in its environment keeps its tenants' files there (the driver's
    value, which came with the pickled settings, names a folder on another machine)."""
    local = os.environ.get("AUTONOMOS_DCL_DIR")
    if not local:
        return settings
    return settings.model_copy(update={"dcl_dir": Path(local).expanduser().resolve()})


class _Own:
    """The refresher's ``Materializer`` over this actor's own service (for recovery)."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    async def materialize(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        streams: Iterable[str] | None = None,
        *,
        full: bool = False,
    ) -> dict[str, Any]:
        wanted = None if streams is None else list(streams)
        report: dict[str, Any] = await self.actor.materialize(connection_id, wanted, full)
        return report


def dcl_handle(settings: Settings, tenant_id: uuid.UUID) -> Any:
    """The tenant's DCL actor, created if absent (blocking GCS call; call from a thread).

    Detached: it outlives whichever API replica or supervisor created it.
    """
    name = actor_name("dcl", tenant_id)
    return get_or_create(
        settings,
        DCL,
        "dcl",
        name,
        settings.ray_namespace,
        (settings, tenant_id),
        options={"lifetime": "detached"},
    )


class RayDCL:
    """``DCLPort`` over the tenants' ``DCL`` actors (the caller has connected to Ray)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._handles: dict[uuid.UUID, Any] = {}

    async def _call(self, tenant_id: uuid.UUID, method: str, *args: Any) -> Any:
        for attempt in (1, 2):
            handle = self._handles.get(tenant_id)
            if handle is None:
                handle = await asyncio.to_thread(dcl_handle, self.settings, tenant_id)
                self._handles[tenant_id] = handle
            try:
                return await getattr(handle, method).remote(*args)
            except (ActorDiedError, ActorUnavailableError) as exc:
                # passivated or being replaced: its successor comes with the next lookup
                self._handles.pop(tenant_id, None)
                if attempt == 2:
                    raise DCLUnavailable(
                        f"the DCL of tenant {tenant_id} is unavailable; retry"
                    ) from exc
            except RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, Exception):
                    raise cause from None
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def materialize(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        streams: Iterable[str] | None = None,
        *,
        full: bool = False,
    ) -> dict[str, Any]:
        wanted = None if streams is None else list(streams)
        result: dict[str, Any] = await self._call(
            tenant_id, "materialize", connection_id, wanted, full
        )
        return result

    async def drop_connection(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(tenant_id, "drop_connection", connection_id)
        return result

    async def list_views(self, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call(tenant_id, "list_views")
        return result

    async def read_view(
        self, tenant_id: uuid.UUID, name: str, request: ViewRequest
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(tenant_id, "read_view", name, request)
        return result

    async def query(
        self,
        tenant_id: uuid.UUID,
        sql: str,
        *,
        limit: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        result: QueryResult = await self._call(tenant_id, "query", sql, limit, timeout_s)
        return result

    async def analyze(
        self, tenant_id: uuid.UUID, code: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """An internal agent's analysis, run where the tenant's DuckDB file is owned."""
        result: dict[str, Any] = await self._call(tenant_id, "analyze", code, params)
        return result

    async def close(self) -> None:
        self._handles.clear()  # the actors live on (detached) and passivate when idle
