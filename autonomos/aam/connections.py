"""Connections and sync runs: the service behind /api/v1/aam (no HTTP, no Ray).

Secrets are split from the configuration by each connector's ``secret_fields`` and stored
encrypted; reads show them as ``"***"``. Starting a sync creates a queued run and hands
it to a :class:`SyncLauncher` (Ray actors in production, an in-process task otherwise).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.aam.drift import DriftPolicy
from autonomos.aam.sync_runs import InvalidTransition, SyncStatus, transition
from autonomos.connectors.base import Connector, ConnectorError, FailureType
from autonomos.connectors.registry import SOURCE_TYPES, build_connector, split_secrets
from autonomos.connectors.schema import StreamSchema
from autonomos.dcl.registry import mapping_counts_query
from autonomos.store.aam_models import Connection, DriftEventRow, EventLogEntry, SyncRun
from autonomos.store.base import utcnow
from autonomos.store.errors import Conflict, NotFound
from autonomos.store.secrets import SecretBox

SOURCE_CALL_TIMEOUT_S = 60


class SyncLauncher(Protocol):
    async def launch(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, run_id: uuid.UUID
    ) -> None: ...


class InlineSyncLauncher:
    """Runs syncs as tasks of this process (plain uvicorn, CLI ingest, tests)."""

    def __init__(self, run: Callable[[uuid.UUID, uuid.UUID], Coroutine[Any, Any, Any]]) -> None:
        self._run = run
        self.tasks: set[asyncio.Task[Any]] = set()

    async def launch(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, run_id: uuid.UUID
    ) -> None:
        task = asyncio.create_task(self._run(tenant_id, run_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    latency_ms: float
    error: str | None = None
    failure: str | None = None


class ConnectionService:
    def __init__(self, box: SecretBox, launcher: SyncLauncher) -> None:
        self.box = box
        self.launcher = launcher

    # -- CRUD --------------------------------------------------------------------

    def _validate(self, source_type: str, config: dict[str, Any]) -> None:
        if source_type not in SOURCE_TYPES:
            raise ConnectorError(
                f"unknown source type {source_type!r}; known: {', '.join(SOURCE_TYPES)}",
                FailureType.CONFIGURATION,
            )
        build_connector(source_type, config).close()  # raises on invalid configuration

    async def create(
        self,
        s: AsyncSession,
        name: str,
        source_type: str,
        config: dict[str, Any],
        drift_policy: DriftPolicy,
        connection_id: uuid.UUID | None = None,
    ) -> Connection:
        self._validate(source_type, config)
        plain, secrets = split_secrets(source_type, config)
        if await s.scalar(select(Connection.id).where(Connection.name == name)):
            raise Conflict(f"a connection named {name!r} already exists")
        conn = Connection(
            id=connection_id or uuid.uuid4(),
            name=name,
            source_type=source_type,
            config=plain,
            secrets=self.box.encrypt(secrets) if secrets else None,
            drift_policy=drift_policy.value,
        )
        s.add(conn)
        await s.flush()
        return conn

    async def get(self, s: AsyncSession, connection_id: uuid.UUID) -> Connection:
        conn = await s.get(Connection, connection_id)
        if conn is None:  # another tenant's id lands here too
            raise NotFound("connection not found")
        return conn

    async def update(
        self,
        s: AsyncSession,
        connection_id: uuid.UUID,
        *,
        name: str | None = None,
        config: dict[str, Any] | None = None,
        drift_policy: DriftPolicy | None = None,
        status: str | None = None,
    ) -> Connection:
        conn = await self.get(s, connection_id)
        if name is not None and name != conn.name:
            if await s.scalar(select(Connection.id).where(Connection.name == name)):
                raise Conflict(f"a connection named {name!r} already exists")
            conn.name = name
        if config is not None:
            # omitted or "***" secret values keep the stored ones
            stored = self.box.decrypt(conn.secrets) if conn.secrets else {}
            merged = {**conn.config, **stored}
            merged.update({k: v for k, v in config.items() if v != "***"})
            self._validate(conn.source_type, merged)
            plain, secrets = split_secrets(conn.source_type, merged)
            conn.config = plain
            conn.secrets = self.box.encrypt(secrets) if secrets else None
        if drift_policy is not None:
            conn.drift_policy = drift_policy.value
        if status is not None:
            conn.status = status
        await s.flush()
        return conn

    async def delete(self, s: AsyncSession, connection_id: uuid.UUID) -> None:
        await s.delete(await self.get(s, connection_id))

    def public_config(self, conn: Connection) -> dict[str, Any]:
        shown = dict(conn.config)
        if conn.secrets:
            shown.update({k: "***" for k in self.box.decrypt(conn.secrets)})
        return shown

    # -- talking to the source ---------------------------------------------------

    def _connector(self, conn: Connection) -> Connector:
        secrets = self.box.decrypt(conn.secrets) if conn.secrets else {}
        return build_connector(conn.source_type, {**conn.config, **secrets})

    async def check(self, conn: Connection) -> CheckResult:
        started = time.perf_counter()
        connector = self._connector(conn)
        try:
            with anyio.fail_after(SOURCE_CALL_TIMEOUT_S):
                await anyio.to_thread.run_sync(connector.check, abandon_on_cancel=True)
        except ConnectorError as e:
            return CheckResult(False, _ms(started), str(e), e.failure.value)
        except TimeoutError:
            return CheckResult(False, _ms(started), "source did not answer in time", "transient")
        finally:
            connector.close()
        return CheckResult(True, _ms(started))

    async def discover(self, conn: Connection) -> list[StreamSchema]:
        connector = self._connector(conn)
        try:
            with anyio.fail_after(SOURCE_CALL_TIMEOUT_S):
                return await anyio.to_thread.run_sync(connector.discover, abandon_on_cancel=True)
        finally:
            connector.close()

    # -- sync runs ---------------------------------------------------------------

    async def start_sync(
        self, s: AsyncSession, connection_id: uuid.UUID, streams: list[str] | None
    ) -> SyncRun:
        conn = await self.get(s, connection_id)
        if conn.status == "paused":
            raise Conflict("the connection is paused; resume it before syncing")
        active = await s.scalar(
            select(SyncRun.id).where(
                SyncRun.connection_id == connection_id,
                SyncRun.status.in_([SyncStatus.QUEUED.value, SyncStatus.RUNNING.value]),
            )
        )
        if active is not None:
            raise Conflict(f"sync run {active} of this connection is still in progress")
        run = SyncRun(connection_id=connection_id, streams=streams or None)
        s.add(run)
        await s.flush()
        return run

    async def launch(self, tenant_id: uuid.UUID, run: SyncRun) -> None:
        """Hand a committed run to the launcher (after the creating transaction)."""
        await self.launcher.launch(tenant_id, run.connection_id, run.id)

    async def cancel(self, s: AsyncSession, run_id: uuid.UUID) -> SyncRun:
        run = await s.get(SyncRun, run_id, with_for_update=True)
        if run is None:
            raise NotFound("sync run not found")
        try:
            run.status = transition(SyncStatus(run.status), SyncStatus.CANCELLED)
        except InvalidTransition as e:
            raise Conflict(str(e)) from None
        run.finished_at = utcnow()
        return run

    # -- the connectors overview -------------------------------------------------

    async def overview(self, s: AsyncSession) -> list[dict[str, Any]]:
        """Every connection with mapping count, drift flag and last event: one query."""
        mappings = mapping_counts_query().subquery()
        drift = (
            select(DriftEventRow.connection_id, func.count().label("open"))
            .where(DriftEventRow.status == "open")
            .group_by(DriftEventRow.connection_id)
            .subquery()
        )
        ranked = select(
            EventLogEntry.connection_id,
            EventLogEntry.type,
            EventLogEntry.at,
            func.row_number()
            .over(partition_by=EventLogEntry.connection_id, order_by=EventLogEntry.at.desc())
            .label("rn"),
        ).subquery()
        last = select(ranked).where(ranked.c.rn == 1).subquery()
        rows = await s.execute(
            select(
                Connection,
                func.coalesce(mappings.c.n, 0),
                func.coalesce(drift.c.open, 0),
                last.c.type,
                last.c.at,
            )
            .outerjoin(mappings, mappings.c.connection_id == Connection.id)
            .outerjoin(drift, drift.c.connection_id == Connection.id)
            .outerjoin(last, last.c.connection_id == Connection.id)
            .order_by(Connection.created_at)
        )
        return [
            {
                "id": conn.id,
                "name": conn.name,
                "source_type": conn.source_type,
                "status": conn.status,
                "mapping_count": int(n_map),
                "has_drift": int(n_drift) > 0,
                "last_event_type": ev_type,
                "last_event_at": ev_at,
            }
            for conn, n_map, n_drift, ev_type, ev_at in rows
        ]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
