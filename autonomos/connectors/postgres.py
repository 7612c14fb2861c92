"""PostgreSQL connector: catalog discovery and keyset-paginated reads (psycopg 3).

Reads page by ``(cursor, primary key) > (last cursor, last pk) ORDER BY cursor, pk``,
so each page is an index range scan and a state resumes exactly after its batch. A
table without a primary key pages by ``ctid`` (stable for a full refresh only).

State (JSON)::

    {"cursor": "2024-05-01T10:00:00+00:00", "pk": [42]}   # incremental
    {"pk": [42], "generation": "<hex>"}  /  {"ctid": "(3,7)", ...}   # full refresh
    {"pk": [...], "generation": "<hex>", "done": true}     # full refresh finished

A finished full refresh starts over on the next read; an incremental one continues.
A full refresh is a complete snapshot (see ``connectors.base``): the whole table is its
one part (``""``), each read from the start a new generation, and a read that reaches the
end yields a ``SnapshotMessage`` after its final state, so rows deleted in the source
leave the views. (A full refresh resumed from a state saved before generations existed
yields none.)
Restrictions: rows whose cursor is NULL are skipped by incremental reads; rows
committed later with a cursor value below the saved one are missed (the usual caveat
of cursor-based sync; a lookback window is not implemented).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import psycopg
import pyarrow as pa

from autonomos.connectors import _postgres_catalog as catalog
from autonomos.connectors.base import (
    Connector,
    ConnectorError,
    FailureType,
    ReadItem,
    RecordBatchMessage,
    SnapshotMessage,
    StateMessage,
    redact,
)
from autonomos.connectors.configs.databases import PostgresConfig, pg_url
from autonomos.connectors.edge import EdgePolicy
from autonomos.connectors.schema import FieldType, StreamSchema

CONNECT_TIMEOUT_S = 10
STATEMENT_TIMEOUT_MS = 300_000

_CONFIG_MARKERS = (
    "password authentication failed",
    "does not exist",
    "no pg_hba.conf entry",
    "could not translate host name",
    "invalid dsn",
    "permission denied",
    "authentication",
)
_TRANSIENT_SQLSTATES = ("08", "40", "53", "57")  # connection, rollback, resources, operator


def classify(exc: BaseException) -> FailureType:
    """Failure type of a psycopg error: the user must fix it, a retry may help, or not."""
    state = getattr(exc, "sqlstate", None) or ""
    text = str(exc).lower()
    if state.startswith(("28", "3D", "42501")) or state == "42P01":
        return FailureType.CONFIGURATION
    if state.startswith(_TRANSIENT_SQLSTATES):
        return FailureType.TRANSIENT
    if isinstance(exc, psycopg.OperationalError):
        if any(marker in text for marker in _CONFIG_MARKERS):
            return FailureType.CONFIGURATION
        return FailureType.TRANSIENT  # refused, timeout, reset
    if isinstance(exc, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn):
        return FailureType.CONFIGURATION
    return FailureType.TERMINAL


class PostgresConnector(Connector):
    """Config: see :class:`~autonomos.connectors.configs.databases.PostgresConfig`.

    With ``AUTONOMOS_CONNECTOR_BLOCK_PRIVATE`` the host is resolved and checked before
    connecting, and libpq connects to the checked address (``hostaddr``) while TLS still
    verifies the host name.
    """

    kind: ClassVar[str] = "postgres"
    config_model = PostgresConfig
    options: PostgresConfig

    def __init__(self, config: Mapping[str, Any], *, edge: EdgePolicy | None = None) -> None:
        super().__init__(config, edge=edge)
        self._url = pg_url(self.options.url).set(drivername="postgresql+psycopg")
        self.schemas: list[str] = list(self.options.schemas)
        self.tables: list[str] | None = self.options.tables
        self.batch_size = self.options.batch_size
        self._conn: psycopg.Connection[Any] | None = None
        self._streams: dict[str, catalog.Table] | None = None

    def secrets(self) -> list[str]:
        values = super().secrets()
        if self._url.password:
            values.append(str(self._url.password))
        return values

    def _error(self, what: str, exc: BaseException) -> ConnectorError:
        message = redact(f"postgres {what}: {type(exc).__name__}: {exc}", self.secrets())
        return ConnectorError(message, classify(exc))

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        u = self._url
        try:
            params: dict[str, Any] = {k: str(v) for k, v in u.query.items()}
            if self.edge is not None:
                checked = self.edge.check_database_host(
                    self.options.host, self.options.port, strict=True
                )
                if checked:
                    params["hostaddr"] = checked[0]  # connect where the check looked
            params.update(
                host=u.host or "localhost",
                port=u.port or 5432,
                user=u.username,
                password=self.options.password or u.password,
                dbname=u.database,
                connect_timeout=CONNECT_TIMEOUT_S,
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                application_name="autonomos-connector",
            )
            self._conn = psycopg.connect(**params, autocommit=True)
        except psycopg.Error as exc:
            raise self._error(f"connect to {u.host}:{u.port}/{u.database}", exc) from None
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- protocol --------------------------------------------------------------------

    def check(self) -> None:
        try:
            self._connect().execute("SELECT 1")
        except psycopg.Error as exc:
            raise self._error("check", exc) from None

    def _catalog(self) -> dict[str, catalog.Table]:
        if self._streams is None:
            try:
                tables = catalog.load(self._connect(), self.schemas, self.tables)
            except psycopg.Error as exc:
                raise self._error("discover", exc) from None
            overrides: Mapping[str, str] = self.options.cursor_field
            for t in tables.values():
                chosen = overrides.get(t.stream) or overrides.get(t.name)
                if chosen:
                    t.cursor = chosen
            self._streams = tables
        return self._streams

    def discover(self) -> list[StreamSchema]:
        return [t.schema() for t in self._catalog().values()]

    def read(self, stream: str, state: Mapping[str, Any] | None) -> Iterator[ReadItem]:
        table = self._catalog().get(stream)
        if table is None:
            raise ConnectorError(f"postgres: unknown stream {stream!r}", FailureType.CONFIGURATION)
        if table.cursor and table.column(table.cursor) is None:
            raise ConnectorError(
                f"postgres: cursor column {table.cursor!r} not in {stream!r}",
                FailureType.CONFIGURATION,
            )
        st = dict(state or {})
        if st.get("done") and not table.cursor:
            st = {}  # a finished full refresh starts over
        st.pop("done", None)
        generation = None if table.cursor else st.get("generation")
        if not table.cursor and not st:  # a full read from the first row: a new generation
            generation = uuid.uuid4().hex
        arrow = pa.schema([(c.name, c.type.arrow_type()) for c in table.columns])
        conn = self._connect()
        while True:
            query, params = catalog.page_query(table, st, self.batch_size)
            try:
                with conn.cursor(binary=True) as cur:
                    cur.execute(query, params)
                    rows = cur.fetchall()
            except psycopg.Error as exc:
                raise self._error(f"read {stream}", exc) from None
            if not rows:
                break
            batch = _to_batch(rows, table, arrow)
            st = catalog.next_state(table, st, rows[-1])
            if generation is not None:
                st["generation"] = generation
            yield RecordBatchMessage(batch, part="" if generation else None, generation=generation)
            yield StateMessage(dict(st))
            if len(rows) < self.batch_size:
                break
        if not table.cursor:
            st["done"] = True
            if generation is not None:
                st["generation"] = generation
        yield StateMessage(dict(st))
        if generation is not None:
            yield SnapshotMessage({"": generation})


def _to_batch(rows: list[tuple[Any, ...]], table: catalog.Table, schema: pa.Schema) -> Any:
    n = len(table.columns)  # extra trailing columns (ctid) are for paging only
    columns = list(zip(*rows, strict=True))[:n]
    arrays = []
    for values, col, fld in zip(columns, table.columns, schema, strict=True):
        try:
            arrays.append(pa.array(values, type=fld.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            if col.type is not FieldType.DECIMAL:
                raise
            # NUMERIC with more than 9 decimals or 29 integer digits: keep it exact as text
            arrays.append(pa.array([None if v is None else str(v) for v in values]))
    names = [c.name for c in table.columns]
    return pa.RecordBatch.from_arrays(arrays, names=names)
