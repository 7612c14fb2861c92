"""Connections and sync runs: the service behind /api/v1/aam (no HTTP, no Ray).

A configuration is validated by its source type's model and checked against the
tenant's edge policy (paths, URLs, hosts) at create and update time, before any I/O.
Secrets are split from it (each model names its secret paths) and stored encrypted;
reads show them masked (``"***"``). Secrets never follow a changed host: an update that
moves a connection elsewhere must send its secrets again. Starting a sync creates a
queued run and hands it to a :class:`SyncLauncher` (Ray actors in production, an
in-process task otherwise).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.aam.admission import FairAdmission
from autonomos.aam.drift import DriftPolicy
from autonomos.aam.edge import EdgePolicies
from autonomos.aam.sync_runs import InvalidTransition, SyncStatus, transition
from autonomos.connectors.base import Connector, ConnectorError, FailureType
from autonomos.connectors.configs import SourceConfig, join, merge_update, public, split
from autonomos.connectors.configs.base import has_path
from autonomos.connectors.registry import build_connector, config_model
from autonomos.connectors.schema import StreamSchema
from autonomos.dcl.registry import mapping_counts_query
from autonomos.events.log import record
from autonomos.store.aam_models import Connection, DriftEventRow, SyncRun
from autonomos.store.base import utcnow
from autonomos.store.errors import Conflict, NotFound
from autonomos.store.event_models import EventRow
from autonomos.store.secrets import SecretBox
from autonomos.store.session import session_tenant

SOURCE_CALL_TIMEOUT_S = 60
log = logging.getLogger("autonomos.aam.connections")


class SyncLauncher(Protocol):
    async def launch(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, run_id: uuid.UUID
    ) -> None: ...


class InlineSyncLauncher:
    """Runs syncs as tasks of this process (plain uvicorn, CLI ingest, tests)."""

    def __init__(
        self,
        run: Callable[[uuid.UUID, uuid.UUID], Coroutine[Any, Any, Any]],
        admission: FairAdmission | None = None,
    ) -> None:
        """``admission``: the runs' fair share of sync slots (none: all run at once)."""
        self._run = run
        self.admission = admission
        self.tasks: set[asyncio.Task[Any]] = set()

    async def _admitted(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> Any:
        if self.admission is None:
            return await self._run(tenant_id, run_id)
        tenant, run = str(tenant_id), str(run_id)
        await self.admission.acquire(tenant, run)
        try:
            return await self._run(tenant_id, run_id)
        finally:
            self.admission.release(tenant, run)

    async def launch(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, run_id: uuid.UUID
    ) -> None:
        task = asyncio.create_task(self._admitted(tenant_id, run_id))
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
    def __init__(self, box: SecretBox, launcher: SyncLauncher, edges: EdgePolicies) -> None:
        self.box = box
        self.launcher = launcher
        self.edges = edges

    # -- CRUD --------------------------------------------------------------------

    async def _validate(
        self, s: AsyncSession, source_type: str, config: dict[str, Any]
    ) -> SourceConfig:
        """The validated model; the connector is built under the tenant's edge policy
        (off the event loop: checking a host resolves it), so nothing it names is
        outside the tenant's roots or the allow-list. No source is contacted."""
        config_model(source_type)  # unknown source type: a configuration error
        edge = await self.edges.for_tenant(s, session_tenant(s))

        def build() -> SourceConfig:
            connector = build_connector(source_type, config, edge)
            connector.close()
            return connector.options

        return await anyio.to_thread.run_sync(build)

    async def create(
        self,
        s: AsyncSession,
        name: str,
        source_type: str,
        config: dict[str, Any],
        drift_policy: DriftPolicy,
        connection_id: uuid.UUID | None = None,
    ) -> Connection:
        options = await self._validate(s, source_type, config)
        plain, secrets = split(options, config)
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
            stored = self._secrets(conn)
            merged, resent = merge_update(conn.config, stored, config)
            options = await self._validate(s, conn.source_type, merged)
            _refuse_following_secrets(conn, stored, merged, resent, options)
            plain, secrets = split(options, merged)
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

    def _secrets(self, conn: Connection) -> dict[str, Any]:
        return self.box.decrypt(conn.secrets) if conn.secrets else {}

    def public_config(self, conn: Connection) -> dict[str, Any]:
        return public(conn.config, self._secrets(conn))

    # -- talking to the source ---------------------------------------------------

    async def _connector(self, s: AsyncSession, conn: Connection) -> Connector:
        edge = await self.edges.for_tenant(s, conn.tenant_id)
        config = join(conn.config, self._secrets(conn))
        return await anyio.to_thread.run_sync(build_connector, conn.source_type, config, edge)

    async def check(self, s: AsyncSession, conn: Connection) -> CheckResult:
        """Reach the source; every failure (a refused configuration included) is data."""
        started = time.perf_counter()
        connector: Connector | None = None
        try:
            connector = await self._connector(s, conn)
            with anyio.fail_after(SOURCE_CALL_TIMEOUT_S):
                await anyio.to_thread.run_sync(connector.check, abandon_on_cancel=True)
        except ConnectorError as e:
            return CheckResult(False, _ms(started), str(e), e.failure.value)
        except TimeoutError:
            return CheckResult(False, _ms(started), "source did not answer in time", "transient")
        except Exception as e:  # a connector bug must not become a 500
            log.exception("check of connection %s failed unexpectedly", conn.id)
            return CheckResult(
                False, _ms(started), f"internal error: {type(e).__name__}", "terminal"
            )
        finally:
            if connector is not None:
                connector.close()
        return CheckResult(True, _ms(started))

    async def discover(self, s: AsyncSession, conn: Connection) -> list[StreamSchema]:
        """The source's streams; failures are classified ``ConnectorError`` s."""
        connector = await self._connector(s, conn)
        try:
            with anyio.fail_after(SOURCE_CALL_TIMEOUT_S):
                return await anyio.to_thread.run_sync(connector.discover, abandon_on_cancel=True)
        except (ConnectorError, TimeoutError):
            raise
        except OSError as e:
            raise ConnectorError(
                f"cannot read the source: {e.strerror or type(e).__name__}", FailureType.TRANSIENT
            ) from None
        except Exception as e:  # a connector bug must not become a 500
            log.exception("discover of connection %s failed unexpectedly", conn.id)
            raise ConnectorError(
                f"cannot read the source: {type(e).__name__}", FailureType.TERMINAL
            ) from None
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
        record(
            s,
            "sync.queued",
            subject={"connection_id": connection_id, "run_id": run.id},
            streams=run.streams,
        )
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
        record(
            s,
            "sync.cancelled",
            subject={"connection_id": run.connection_id, "run_id": run.id},
            read=run.records_read,
            written=run.records_written,
            quarantined=run.records_quarantined,
        )
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
            EventRow.connection_id,
            EventRow.type,
            EventRow.occurred_at.label("at"),
            func.row_number()
            .over(partition_by=EventRow.connection_id, order_by=EventRow.seq.desc())
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


def _refuse_following_secrets(
    conn: Connection,
    stored: dict[str, Any],
    merged: dict[str, Any],
    resent: set[str],
    options: SourceConfig,
) -> None:
    """Stored secrets never follow a connection to another host: an update that changes
    where it points must send every secret it keeps (the rest may be dropped)."""
    try:
        before = config_model(conn.source_type).parse(join(conn.config, stored)).endpoints()
    except ConnectorError:  # a configuration stored before validation: assume it moved
        before = frozenset()
    if options.endpoints() == before:
        return
    following = sorted(p for p in stored if has_path(merged, p) and p not in resent)
    if following:
        raise ConnectorError(
            "this change points the connection at another host, so its stored secrets must "
            f"be sent again in the same request: {', '.join(following)}",
            FailureType.CONFIGURATION,
        )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
