"""One tenant's DCL: keeps its DuckDB views in step with the mapping registry and the
landing zone, and answers reads. What the ``DCL`` actor wraps (and, with
``dcl_executor=inline``, what the API process holds per tenant).

Materialising a connection: the metadata (active mappings, committed landed batches
that no complete snapshot superseded, stream keys) is read from SQL in one tenant
session; slices are then brought up to date one by one in a worker thread under a lock,
so there is a single writer; a slice that fails is reported and does not stop the
others. Slices whose mappings are gone, and slices of deleted connections, are dropped.
When accounts or contacts changed, entity resolution rebuilds ``unified_account`` /
``unified_contact``. Each slice's outcome is also written to ``view_materializations``
(a summary for the dashboard and the graph).

The DuckDB file is a derived store, the landing zone and the mapping registry being the
truth: before it answers its first read, a service brings the views of every connection
materialised before up to date (:meth:`DCLService.catch_up`). On a node that never had
the tenant's file (its actor restarted elsewhere, a node added to the cluster) that
rebuilds every view; on a file left behind on a node the actor moved away from, it adds
what landed meanwhile; on a current file it only reads the metadata.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import duckdb
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from autonomos.dcl import browse, registry, sandbox
from autonomos.dcl.encode import QueryResult
from autonomos.dcl.errors import DCLUnavailable, ViewError
from autonomos.dcl.slices import FieldMapping, LandedFile, Locate, SliceResult, SliceSpec
from autonomos.dcl.views import ViewStore
from autonomos.ontology import Ontology, load_ontology
from autonomos.store.aam_models import Connection, LandedBatch, SchemaFingerprint
from autonomos.store.base import utcnow
from autonomos.store.dcl_models import ViewMaterialization
from autonomos.store.errors import NotFound
from autonomos.store.session import Database

if TYPE_CHECKING:
    from autonomos.config import Settings

log = logging.getLogger("autonomos.dcl.service")

Resolver = Callable[[duckdb.DuckDBPyConnection], dict[str, int]]


class LandingSource(Protocol):
    """Where a tenant's landed Parquet is (``aam.landing.LandingZone`` is one)."""

    def tenant_dir(self, tenant_id: uuid.UUID) -> Path | None: ...

    def locate(self, value: str) -> Any: ...


RESOLVED_ENTITIES = frozenset({"account", "contact"})


def database_path(data_dir: Path, tenant_id: uuid.UUID) -> Path:
    """Where a tenant's DuckDB file lives under ``data_dir``: one file per tenant."""
    return tenant_file(Path(data_dir) / "dcl", tenant_id)


def tenant_file(folder: Path, tenant_id: uuid.UUID) -> Path:
    """A tenant's DuckDB file in ``folder`` (``Settings.dcl_location``), nothing shared."""
    return Path(folder) / f"{uuid.UUID(str(tenant_id))}.duckdb"


def _default_resolver() -> Resolver | None:
    try:
        from autonomos.dcl.resolution import resolve
    except ImportError:  # pragma: no cover - resolution is optional for the views
        return None
    return resolve


class DCLService:
    def __init__(
        self,
        db: Database,
        tenant_id: uuid.UUID,
        path: Path,
        *,
        ontology: Ontology | None = None,
        threads: int = 2,
        memory_limit: str = "2GB",
        query_timeout_s: float = 10.0,
        query_max_rows: int = 10_000,
        query_max_bytes: int = sandbox.DEFAULT_MAX_BYTES,
        resolver: Resolver | bool | None = True,
        landing_dirs: tuple[Path, ...] = (),
        locate: Locate | None = None,
    ) -> None:
        self.db, self.tenant_id = db, tenant_id
        self.ontology = ontology or load_ontology()
        self.fresh = not Path(path).exists()  # nothing to start from: catch_up rebuilds
        self.store = ViewStore(
            path,
            self.ontology,
            threads=threads,
            memory_limit=memory_limit,
            landing_dirs=landing_dirs,
            locate=locate,
        )
        self.query_timeout_s, self.query_max_rows = query_timeout_s, query_max_rows
        self.query_max_bytes = query_max_bytes
        self.resolver: Resolver | None = (
            _default_resolver() if resolver is True else (resolver or None)
        )
        self._write = asyncio.Lock()
        self._readers = 0  # reads in flight, each on its own cursor: close waits for them
        self._no_readers = asyncio.Event()
        self._no_readers.set()
        self._closing = False  # set by close(): no read or write starts after it
        self._catching_up = asyncio.Lock()
        self.caught_up: dict[str, Any] | None = None  # catch_up's report, once done

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, tenant_id: uuid.UUID, landing: LandingSource
    ) -> DCLService:
        """``landing``: the AAM's landing zone (``AUTONOMOS_LANDING_URL``), given by the
        caller's shell: a folder is read by DuckDB natively, object storage through Arrow
        on the zone's file system."""
        tenant_dir = landing.tenant_dir(tenant_id)
        return cls(
            db,
            tenant_id,
            tenant_file(settings.dcl_location, tenant_id),
            threads=settings.dcl_threads,
            memory_limit=settings.dcl_memory_limit,
            query_timeout_s=settings.dcl_query_timeout_s,
            query_max_rows=settings.dcl_query_max_rows,
            query_max_bytes=settings.dcl_query_max_bytes,
            landing_dirs=() if tenant_dir is None else (tenant_dir,),
            locate=landing.locate,
        )

    async def close(self) -> None:
        """Close the file once the write in progress and the reads in flight are done
        (DuckDB refuses to close a connection a cursor is still using)."""
        self._closing = True
        async with self._write:
            await self._no_readers.wait()
            await anyio.to_thread.run_sync(self.store.close)

    def _open(self) -> None:
        if self._closing:
            raise DCLUnavailable(f"the views of tenant {self.tenant_id} are closing; retry")

    # -- writes ------------------------------------------------------------------------

    async def materialize(
        self,
        connection_id: uuid.UUID,
        streams: Iterable[str] | None = None,
        *,
        full: bool = False,
    ) -> dict[str, Any]:
        """Bring the connection's slices (of ``streams``, default all) up to date.

        ``full`` rebuilds them from every landed batch (what a mapping change or an
        applied repair asks for). NotFound when the connection is not the tenant's.

        The file is caught up first (:meth:`ready`), so this report says what this call
        changed, not what a catch-up started by a concurrent read did meanwhile.
        """
        await self.ready()
        self._open()
        return await self._materialize(connection_id, streams, full=full)

    async def _materialize(
        self,
        connection_id: uuid.UUID,
        streams: Iterable[str] | None,
        *,
        full: bool,
        record_unchanged: bool = True,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        wanted = None if streams is None else set(streams)
        specs, files, live = await self._plan(connection_id, wanted)
        cid = str(connection_id)
        async with self._write:
            results, resolution = await anyio.to_thread.run_sync(
                self._apply, cid, specs, files, wanted, live, full
            )
        await self._record(
            connection_id, [r for r in results if record_unchanged or r.mode != "unchanged"]
        )
        return {
            "connection_id": cid,
            "slices": [r.to_dict() for r in results],
            "resolution": resolution,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        }

    async def catch_up(self) -> dict[str, Any]:
        """Bring the views of every connection that has been materialised (it has
        ``view_materializations`` rows, whichever node built them) up to date with the
        registry and the landing zone, from whatever the file holds (see the module
        docstring), and drop those of deleted connections; a report of it.

        A connection never materialised stays out of the views, as it was on the node
        that had the file (e.g. mappings set with ``materialize: false``). Incremental per
        slice, so a current file costs only the metadata reads; a slice that fails is
        reported, as by :meth:`materialize`, and does not stop the others.
        """
        started = time.perf_counter()
        async with self.db.tenant_session(self.tenant_id) as s:
            live = set(await s.scalars(select(Connection.id)))
            built = set(await s.scalars(select(ViewMaterialization.connection_id).distinct()))
        gone = {st.connection_id for st in self.store.slices()} - {str(c) for c in live}
        if gone:
            async with self._write:
                for cid in sorted(gone):
                    await anyio.to_thread.run_sync(self._drop_connection, cid)
        wanted = sorted(live & built, key=str)
        modes: dict[str, int] = defaultdict(int)
        rows = 0
        for connection_id in wanted:
            try:
                report = await self._materialize(
                    connection_id, None, full=False, record_unchanged=False
                )
            except NotFound:  # deleted since we listed it
                continue
            for result in report["slices"]:
                modes[result["mode"]] += 1
                rows += int(result["rows"] or 0)
        return {
            "fresh": self.fresh,
            "connections": len(wanted),
            "dropped_connections": len(gone),
            "slices": dict(modes),
            "rows": rows,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        }

    async def ready(self) -> dict[str, Any]:
        """Catch up once, before the first read is served (:meth:`catch_up`'s report).

        DCLUnavailable when it cannot (the metadata store or the landing zone is out of
        reach): serving a new node's empty file as the tenant's views would be wrong.
        """
        self._open()
        if self.caught_up is not None:
            return self.caught_up
        async with self._catching_up:
            if self.caught_up is None:
                try:
                    report = await self.catch_up()
                except Exception as exc:
                    log.warning("tenant %s: catching up the views failed: %r", self.tenant_id, exc)
                    raise DCLUnavailable(
                        f"the views of tenant {self.tenant_id} could not be brought up to "
                        f"date ({type(exc).__name__}); retry"
                    ) from exc
                log.info("tenant %s: views caught up: %s", self.tenant_id, report)
                self.caught_up = report
        return self.caught_up

    async def drop_connection(self, connection_id: uuid.UUID) -> dict[str, Any]:
        """Remove a (deleted) connection's rows from every view."""
        async with self._write:
            return await anyio.to_thread.run_sync(self._drop_connection, str(connection_id))

    def _drop_connection(self, cid: str) -> dict[str, Any]:
        dropped = self.store.drop(connection_id=cid)
        return {"connection_id": cid, "dropped": dropped, "resolution": self._resolve(dropped)}

    async def _plan(
        self, connection_id: uuid.UUID, wanted: set[str] | None
    ) -> tuple[list[SliceSpec], dict[str, list[LandedFile]], set[str]]:
        """Slices wanted for the connection, the stream's landed files, live connections."""
        async with self.db.tenant_session(self.tenant_id) as s:
            if await s.get(Connection, connection_id) is None:
                raise NotFound("connection not found")
            live = {str(c) for c in await s.scalars(select(Connection.id))}
            mappings = await registry.active_mappings(s, connection_id)
            query = select(
                LandedBatch.stream, LandedBatch.id, LandedBatch.path, LandedBatch.landed_at
            ).where(LandedBatch.connection_id == connection_id, LandedBatch.live())
            if wanted is not None:
                query = query.where(LandedBatch.stream.in_(sorted(wanted)))
            batches = await s.execute(query.order_by(LandedBatch.landed_at, LandedBatch.id))
            fingerprints = await s.execute(
                select(SchemaFingerprint.stream, SchemaFingerprint.schema)
                .where(
                    SchemaFingerprint.connection_id == connection_id,
                    SchemaFingerprint.status == "accepted",
                )
                .order_by(SchemaFingerprint.accepted_at)
            )
            files: dict[str, list[LandedFile]] = defaultdict(list)
            for stream, bid, path, landed_at in batches:
                files[stream].append(LandedFile(str(bid), path, landed_at))
            keys = {stream: tuple(doc.get("primary_key") or ()) for stream, doc in fingerprints}
        grouped: dict[tuple[str, str], list[FieldMapping]] = defaultdict(list)
        for m in mappings:
            if (wanted is None or m.stream in wanted) and self.ontology.has_entity(m.entity):
                grouped[(m.stream, m.entity)].append(
                    FieldMapping(m.source_field, m.field, m.transform)
                )
        specs = [
            SliceSpec(str(connection_id), stream, entity, tuple(fm), keys.get(stream, ()))
            for (stream, entity), fm in sorted(grouped.items())
        ]
        return specs, dict(files), live

    def _apply(
        self,
        cid: str,
        specs: list[SliceSpec],
        files: dict[str, list[LandedFile]],
        wanted: set[str] | None,
        live: set[str],
        full: bool,
    ) -> tuple[list[SliceResult], dict[str, Any] | None]:
        changed: list[str] = []
        for gone in {s.connection_id for s in self.store.slices()} - live:
            changed += self.store.drop(connection_id=gone)  # deleted connections
        results = []
        for spec in specs:
            try:
                result = self.store.materialize(spec, files.get(spec.stream, []), full=full)
            except ViewError as exc:
                log.error("tenant %s: %s", self.tenant_id, exc)
                result = SliceResult(spec.entity, cid, spec.stream, "failed", 0, error=str(exc))
            results.append(result)
            if result.mode not in ("unchanged", "failed"):
                changed.append(spec.entity)
        keep = {(s.stream, s.entity) for s in specs}
        keep |= {
            (s.stream, s.entity)
            for s in self.store.slices(connection_id=cid)
            if wanted is not None and s.stream not in wanted
        }
        for state in self.store.slices(connection_id=cid):
            if (state.stream, state.entity) not in keep:
                results.append(SliceResult(state.entity, cid, state.stream, "dropped", 0))
        dropped = self.store.drop(connection_id=cid, keep=keep)
        return results, self._resolve(changed + dropped)

    def _resolve(self, entities: Iterable[str]) -> dict[str, Any] | None:
        """Rebuild the unified tables when accounts or contacts changed."""
        if self.resolver is None or not RESOLVED_ENTITIES & set(entities):
            return None
        started = time.perf_counter()
        try:
            counts = self.store.run_writer(self.resolver)
        except Exception as exc:  # resolution must never undo a materialisation
            log.exception("tenant %s: entity resolution failed", self.tenant_id)
            return {"error": f"{type(exc).__name__}: {exc}"}
        return {"rows": counts, "duration_ms": round((time.perf_counter() - started) * 1000, 1)}

    async def _record(self, connection_id: uuid.UUID, results: list[SliceResult]) -> None:
        """Upsert the ``view_materializations`` summary (best effort: DuckDB is the truth)."""
        try:
            async with self.db.tenant_session(self.tenant_id) as s:
                for r in results:
                    await s.execute(
                        delete(ViewMaterialization).where(
                            ViewMaterialization.connection_id == connection_id,
                            ViewMaterialization.stream == r.stream,
                            ViewMaterialization.entity == r.entity,
                        )
                    )
                    if r.mode == "dropped":
                        continue
                    s.add(
                        ViewMaterialization(
                            connection_id=connection_id,
                            stream=r.stream,
                            entity=r.entity,
                            status="failed" if r.mode == "failed" else "ok",
                            mode=r.mode,
                            rows=r.rows,
                            mapping_signature=r.signature,
                            last_synced_at=r.last_synced_at,
                            error=(r.error or "")[:2000] or None,
                            materialized_at=utcnow(),
                        )
                    )
        except (IntegrityError, NotFound):  # the connection was deleted meanwhile
            log.info(
                "tenant %s: connection %s gone; summary not kept", self.tenant_id, connection_id
            )

    # -- reads (any number at once, each on its own cursor) ---------------------------

    async def list_views(self) -> list[dict[str, Any]]:
        return await self._read(lambda con: browse.list_views(con, self.ontology))

    async def read_view(self, name: str, request: browse.ViewRequest) -> dict[str, Any]:
        return await self._read(lambda con: browse.read_view(con, self.ontology, name, request))

    async def query(
        self, sql: str, *, limit: int | None = None, timeout_s: float | None = None
    ) -> QueryResult:
        """Run a sandbox SELECT; ``limit``/``timeout_s`` are capped by the service's own,
        and the answer by ``query_max_bytes`` of encoded rows."""
        rows = min(limit or self.query_max_rows, self.query_max_rows)
        timeout = min(timeout_s or self.query_timeout_s, self.query_timeout_s)
        result: QueryResult = await self._read(
            lambda con: sandbox.run(
                con, sql, max_rows=rows, timeout_s=timeout, max_bytes=self.query_max_bytes
            )
        )
        return result

    async def read(self, fn: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        """``fn(cursor)`` in a worker thread, on its own read cursor of the tenant's views:
        how analyses (the FinOps and RevOps agents) run where the DuckDB file is owned."""
        return await self._read(fn)

    async def _read(self, fn: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        await self.ready()

        def run() -> Any:
            con = self.store.cursor()
            try:
                return fn(con)
            finally:
                con.close()

        self._open()
        self._readers += 1
        self._no_readers.clear()
        try:  # not abandoned on cancellation: this waits for the thread to finish
            return await anyio.to_thread.run_sync(run)
        finally:
            self._readers -= 1
            if not self._readers:
                self._no_readers.set()
