"""Unified views in one tenant's DuckDB file (core logic: no Ray, no SQL metadata).

Layout of the file:

- ``_dcl."s_<hash>"``: one table per *slice*, i.e. per (connection, stream) -> entity,
  holding the entity's fields plus the lineage columns ``_source_connection``,
  ``_source_stream``, ``_source_key``, ``_synced_at`` and an internal ``_row_hash``.
  Keys are unique within a slice by construction (no index: bulk set-based rewrites
  stay at CTAS speed).
- ``main."<entity>"``: a view per ontology entity, the UNION ALL of its slices; the unit
  key is (``_source_connection``, ``_source_stream``, ``_source_key``).
- ``_dcl.slices`` / ``_dcl.slice_batches``: what each slice was built from (mapping
  signature, landed batch ids), committed in the same transaction as its data, so a crash
  never leaves them disagreeing.

Materialising a slice reads the landed Parquet files with DuckDB's reader when they lie
in the tenant's landing directory (the only directory the instance may read: it has
``enable_external_access=false`` and a locked configuration, see ``_duck``), else (object
storage) through a pyarrow dataset on the landing zone's file system, registered with
DuckDB. Full builds are one
``CREATE OR REPLACE TABLE ... AS`` (a left join to the old slice keeps ``_synced_at`` of
unchanged rows); increments are DELETE + INSERT of the changed keys (compacted when that
leaves many dead rows). Idempotent: rows whose content hash is unchanged are left as they
are, so replaying a sync changes nothing.

One writer at a time (a lock here; the DCL actor is the only process that opens the file).
Readers use their own cursors on the same instance and see committed snapshots.
"""

# ruff: noqa: S608 - identifiers quoted with ident(), values literal()/bound; see _sql
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa

from autonomos.dcl._duck import (
    connect,
    landed_relation,
    local_file,
    present_files,
    scalar,
    table_columns,
    transaction,
    within,
)
from autonomos.dcl._slice_sql import LANDED_AT, FieldMapping, slice_query
from autonomos.dcl._sql import INTERNAL_SCHEMA, LINEAGE_TYPES, SQL_TYPES, ident, literal, qualified
from autonomos.dcl.errors import UnknownView, ViewError
from autonomos.dcl.slices import LandedFile, Locate, Mode, SliceResult, SliceSpec, SliceState
from autonomos.ontology import Entity, Ontology, load_ontology

log = logging.getLogger("autonomos.dcl.views")
T = TypeVar("T")

COMPACT_AFTER = 0.25  # rewrite a slice once an increment deleted this share of its rows

__all__ = ["FieldMapping", "LandedFile", "SliceResult", "SliceSpec", "ViewStore"]

_BOOTSTRAP = f"""
CREATE SCHEMA IF NOT EXISTS {INTERNAL_SCHEMA};
CREATE TABLE IF NOT EXISTS {INTERNAL_SCHEMA}.slices (
    table_name VARCHAR, entity VARCHAR, connection_id VARCHAR, stream VARCHAR,
    signature VARCHAR, rows BIGINT, last_synced_at TIMESTAMPTZ, max_landed_at TIMESTAMPTZ,
    materialized_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS {INTERNAL_SCHEMA}.slice_batches (table_name VARCHAR, batch_id VARCHAR);
"""


class ViewStore:
    """One tenant's unified views: materialise slices, list them, hand out read cursors."""

    def __init__(
        self,
        path: Path | str,
        ontology: Ontology | None = None,
        *,
        threads: int = 2,
        memory_limit: str = "2GB",
        landing_dirs: Sequence[Path] = (),
        locate: Locate | None = None,
    ) -> None:
        """``landing_dirs``: where this tenant's landed files are (read natively; files
        elsewhere are read through pyarrow). ``locate``: the file system of a landed file
        (the landing zone's; default: local paths)."""
        self.path = Path(path)
        self.ontology = ontology or load_ontology()
        self.landing_dirs = tuple(Path(d).resolve() for d in landing_dirs)
        self.locate: Locate = locate or local_file
        self._con = connect(
            self.path, threads=threads, memory_limit=memory_limit, readable_dirs=self.landing_dirs
        )
        self._lock = threading.RLock()  # slices() is also called with it held
        self._con.execute(_BOOTSTRAP)
        with self._transaction():
            for name in {s.entity for s in self.slices()} - set(self.ontology.entity_names):
                for s in self.slices(entity=name):  # an entity the ontology dropped
                    self._drop(s)
            for entity in self.ontology.entities:
                self._refresh_view(entity)

    def close(self, wait_s: float = 30.0) -> None:
        """Close the file; while a reader's cursor is still running (DuckDB refuses to
        close under it) wait for it, up to ``wait_s``."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self._con.close()
                return
            except duckdb.Error as e:
                if "busy" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def __enter__(self) -> ViewStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def run_writer(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``fn`` with the writer connection, as the single writer (e.g. entity
        resolution rebuilding the unified tables); ``fn`` manages its own transaction."""
        with self._lock:
            return fn(self._con)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to the instance for one reader (not shared between threads)."""
        return self._con.cursor()

    # -- state ---------------------------------------------------------------------------

    def slices(
        self, *, entity: str | None = None, connection_id: str | None = None
    ) -> list[SliceState]:
        where, params = ["TRUE"], []
        if entity is not None:
            where.append("entity = ?")
            params.append(entity)
        if connection_id is not None:
            where.append("connection_id = ?")
            params.append(connection_id)
        with self._lock:  # the writer connection is not shared between threads
            rows = self._con.execute(
                "SELECT table_name, entity, connection_id, stream, signature, rows, "
                f"last_synced_at, max_landed_at, materialized_at FROM {INTERNAL_SCHEMA}.slices "
                f"WHERE {' AND '.join(where)} ORDER BY entity, connection_id, stream",
                params,
            ).fetchall()
        return [SliceState(*r) for r in rows]

    def _state(self, table: str) -> SliceState | None:
        row = self._con.execute(
            "SELECT table_name, entity, connection_id, stream, signature, rows, last_synced_at, "
            f"max_landed_at, materialized_at FROM {INTERNAL_SCHEMA}.slices WHERE table_name = ?",
            [table],
        ).fetchone()
        if row is None:
            return None
        ids = self._con.execute(
            f"SELECT batch_id FROM {INTERNAL_SCHEMA}.slice_batches WHERE table_name = ?", [table]
        ).fetchall()
        return dataclasses.replace(SliceState(*row), batch_ids=frozenset(r[0] for r in ids))

    # -- materialisation -----------------------------------------------------------------

    def materialize(
        self, spec: SliceSpec, files: Sequence[LandedFile], *, full: bool = False
    ) -> SliceResult:
        """Bring the slice up to date with ``files`` (every committed batch of the stream).

        Incremental when only new batches arrived (all landed after the ones already in);
        full when asked, on a first build, a mapping/ontology change, or when a batch it
        was built from is gone from the manifest (its rows must disappear).
        """
        entity = self._entity(spec.entity)
        started = time.perf_counter()
        signature = spec.signature(entity)
        with self._lock:
            state = self._state(spec.table)
            if not files:
                if state is None:
                    return SliceResult(spec.entity, spec.connection_id, spec.stream, "unchanged", 0)
                with self._transaction():
                    self._drop(state)
                    self._refresh_view(entity)
                return SliceResult(spec.entity, spec.connection_id, spec.stream, "dropped", 0)
            manifest = {f.batch_id for f in files}
            rebuild = (
                full
                or state is None
                or state.signature != signature
                or not state.batch_ids <= manifest
            )
            todo = list(files)
            if not rebuild and state is not None:
                todo = [f for f in files if f.batch_id not in state.batch_ids]
                if not todo:
                    return self._result(spec, state, "unchanged", started)
                if state.max_landed_at and min(f.landed_at for f in todo) < state.max_landed_at:
                    rebuild, todo = True, list(files)  # arrived out of order: rebuild
            try:
                with self._transaction():
                    counts = self._build(spec, entity, todo, state, rebuild, signature)
                    self._refresh_view(entity)
            except (duckdb.Error, OSError, pa.ArrowException) as exc:  # OSError: the store
                raise ViewError(
                    f"materialising {spec.entity} from stream {spec.stream!r} of connection "
                    f"{spec.connection_id} failed: {exc}"
                ) from exc
            new_state = self._state(spec.table)
        assert new_state is not None
        return SliceResult(
            spec.entity,
            spec.connection_id,
            spec.stream,
            "full" if rebuild else "incremental",
            new_state.rows,
            batches_read=counts["read"],
            source_rows=counts.get("source_rows", 0),
            missing_files=counts["missing"],
            upserted=counts.get("upserted"),
            deleted=counts.get("deleted"),
            signature=signature,
            last_synced_at=new_state.last_synced_at,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def drop(self, *, connection_id: str, keep: set[tuple[str, str]] | None = None) -> list[str]:
        """Drop the connection's slices, except the (stream, entity) pairs in ``keep``."""
        dropped = []
        with self._lock, self._transaction():
            for s in self.slices(connection_id=connection_id):
                if keep is None or (s.stream, s.entity) not in keep:
                    self._drop(s)
                    dropped.append(s.entity)
            for name in set(dropped):
                self._refresh_view(self._entity(name))
        return dropped

    def _result(
        self, spec: SliceSpec, state: SliceState, mode: Mode, started: float
    ) -> SliceResult:
        return SliceResult(
            spec.entity,
            spec.connection_id,
            spec.stream,
            mode,
            state.rows,
            signature=state.signature,
            last_synced_at=state.last_synced_at,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    def _build(
        self,
        spec: SliceSpec,
        entity: Entity,
        files: list[LandedFile],
        state: SliceState | None,
        rebuild: bool,
        signature: str,
    ) -> dict[str, int]:
        con, table = self._con, qualified(spec.table)
        present = present_files(files, self.locate)
        counts = {"read": len(present), "missing": len(files) - len(present)}
        if counts["missing"]:
            log.warning(
                "%s/%s: %d landed file(s) missing; their rows are skipped",
                spec.connection_id,
                spec.stream,
                counts["missing"],
            )
        fields = ", ".join(ident(f.name) for f in entity.fields)
        lineage = (
            f"{literal(spec.connection_id)} AS _source_connection, "
            f"{literal(spec.stream)} AS _source_stream"
        )
        native = all(within(f.path, self.landing_dirs) for f in present)
        with landed_relation(self._con, present, native=native, locate=self.locate) as (
            source,
            columns,
        ):
            query = slice_query(entity, spec.mappings, spec.primary_key, columns, source)
            rows, duplicates, deletes = con.execute(query.stats()).fetchone() or (0, 0, 0)
            # The window dedup costs as much as the write; skip it when keys are unique.
            select = query.select(dedup=bool(duplicates))
            counts |= {"source_rows": rows, "duplicate_keys": duplicates, "delete_rows": deletes}
            if rebuild and state is None:
                con.execute(
                    f"CREATE OR REPLACE TABLE {table} AS SELECT {fields}, {lineage}, _source_key, "
                    f"{LANDED_AT} AS _synced_at, _row_hash FROM ({select}) WHERE NOT _deleted"
                )
            elif rebuild:
                con.execute(
                    f"CREATE OR REPLACE TABLE {table} AS SELECT {_prefixed(entity, 'n')}, "
                    f"{lineage}, n._source_key, CASE WHEN o._row_hash = n._row_hash "
                    f"THEN o._synced_at ELSE n.{LANDED_AT} END AS _synced_at, n._row_hash "
                    f"FROM ({select}) AS n LEFT JOIN {table} AS o "
                    "ON o._source_key = n._source_key WHERE NOT n._deleted"
                )
            else:
                assert state is not None
                con.execute(f"CREATE OR REPLACE TEMP TABLE _dcl_inc AS {select}")
                try:
                    counts |= self._apply_increment(spec, entity, state, lineage)
                finally:
                    con.execute("DROP TABLE IF EXISTS temp._dcl_inc")
        now = datetime.now(UTC)
        max_landed = max(
            [f.landed_at for f in files]
            + (
                []
                if rebuild or state is None or state.max_landed_at is None
                else [state.max_landed_at]
            )
        )
        con.execute(f"DELETE FROM {INTERNAL_SCHEMA}.slices WHERE table_name = ?", [spec.table])
        con.execute(
            f"INSERT INTO {INTERNAL_SCHEMA}.slices SELECT ?, ?, ?, ?, ?, count(*), "
            f"max(_synced_at), ?, ? FROM {table}",
            [spec.table, spec.entity, spec.connection_id, spec.stream, signature, max_landed, now],
        )
        if rebuild:
            con.execute(
                f"DELETE FROM {INTERNAL_SCHEMA}.slice_batches WHERE table_name = ?", [spec.table]
            )
        con.execute(
            f"INSERT INTO {INTERNAL_SCHEMA}.slice_batches SELECT ?, unnest(?::VARCHAR[])",
            [spec.table, [f.batch_id for f in files]],
        )
        return counts

    def _apply_increment(
        self, spec: SliceSpec, entity: Entity, state: SliceState, lineage: str
    ) -> dict[str, int]:
        """Upsert ``temp._dcl_inc`` into the slice: only keys whose content changed are
        rewritten (DELETE + INSERT of those keys), so a replay writes nothing. When the
        deletes leave a large share of dead rows, the slice is compacted."""
        con, table = self._con, qualified(spec.table)
        deleted = scalar(
            con,
            f"DELETE FROM {table} AS o USING temp._dcl_inc AS i "
            "WHERE o._source_key = i._source_key AND (i._deleted OR o._row_hash <> i._row_hash)",
        )
        upserted = scalar(
            con,
            f"INSERT INTO {table} SELECT {_prefixed(entity, 'i')}, {lineage}, i._source_key, "
            f"i.{LANDED_AT}, i._row_hash FROM temp._dcl_inc AS i WHERE NOT i._deleted "
            f"AND NOT EXISTS (SELECT 1 FROM {table} AS o WHERE o._source_key = i._source_key)",
        )
        if deleted > COMPACT_AFTER * max(state.rows, 1):
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table}")
        return {"upserted": upserted, "deleted": deleted}

    # -- entity views ----------------------------------------------------------------------

    def _entity(self, name: str) -> Entity:
        if not self.ontology.has_entity(name):
            raise UnknownView(f"unknown view {name!r}")
        return self.ontology.entity(name)

    def _drop(self, state: SliceState) -> None:
        self._con.execute(f"DROP TABLE IF EXISTS {qualified(state.table)}")
        self._con.execute(
            f"DELETE FROM {INTERNAL_SCHEMA}.slices WHERE table_name = ?", [state.table]
        )
        self._con.execute(
            f"DELETE FROM {INTERNAL_SCHEMA}.slice_batches WHERE table_name = ?", [state.table]
        )

    def _refresh_view(self, entity: Entity) -> None:
        """``main.<entity>``: the UNION ALL of its slices, or an empty typed relation."""
        columns = [(f.name, SQL_TYPES[f.type]) for f in entity.fields]
        columns += [(c, t) for c, t in LINEAGE_TYPES.items()]
        parts = []
        for s in self.slices(entity=entity.name):
            have = set(table_columns(self._con, s.table))
            cols = ", ".join(
                ident(c) if c in have else f"CAST(NULL AS {t}) AS {ident(c)}" for c, t in columns
            )
            parts.append(f"SELECT {cols} FROM {qualified(s.table)}")
        if not parts:
            cols = ", ".join(f"CAST(NULL AS {t}) AS {ident(c)}" for c, t in columns)
            parts.append(f"SELECT {cols} WHERE false")
        self._con.execute(
            f"CREATE OR REPLACE VIEW main.{ident(entity.name)} AS {' UNION ALL '.join(parts)}"
        )

    def _transaction(self) -> AbstractContextManager[None]:
        return transaction(self._con)


def _prefixed(entity: Entity, alias: str) -> str:
    return ", ".join(f"{alias}.{ident(f.name)}" for f in entity.fields)
