"""The tenant's DuckDB instance and the landed files as a relation on it.

The instance is opened with external access disabled and its configuration locked, for
every connection on it (the SQL sandbox runs on the same instance). The only exception
is ``allowed_directories``: the tenant's own landing directory, which the writer reads
with DuckDB's native Parquet reader (the sandbox's syntax check refuses file readers and
path-like table names, so it does not read there either; the instance-level rule means
that even a miss in that check could reach nothing but this tenant's landed rows).
Landed files elsewhere (object storage above all: DuckDB's httpfs extension cannot be
installed at run time, and the instance may not reach the network anyway) are read
through a pyarrow dataset on the landing zone's file system, registered with DuckDB (an
explicit hand-over, allowed without external access), about a quarter slower.
"""

# ruff: noqa: S608 - identifiers quoted with ident(), paths and times with literal()
from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from autonomos.dcl._slice_sql import LANDED_AT, RESERVED_PREFIX, ROW, SEQ
from autonomos.dcl._sql import INTERNAL_SCHEMA, ident, literal
from autonomos.dcl.slices import LandedFile, Locate

_SCHEMA_READERS = 8  # footers read at once from object storage (one round trip each)


def connect(
    path: Path | str,
    *,
    threads: int = 2,
    memory_limit: str = "2GB",
    readable_dirs: Sequence[Path] = (),
) -> duckdb.DuckDBPyConnection:
    """The tenant's DuckDB instance, locked down: no network or extension access, no file
    access but to ``readable_dirs`` (the tenant's landing directory).

    ``lock_configuration`` makes this permanent for the instance: nothing executed on it
    (the sandbox included) can turn external access back on or widen the directories.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        str(target),
        config={
            "threads": threads,
            "memory_limit": memory_limit,
            "temp_directory": str(target.with_suffix(".tmp")),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        },
    )
    con.execute("SET GLOBAL TimeZone = 'UTC'")
    if readable_dirs:
        dirs = ", ".join(literal(f"{Path(d).resolve()}/") for d in readable_dirs)
        con.execute(f"SET allowed_directories = [{dirs}]")
    # after the settings that touch the file system (temp_directory), which it would refuse
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


# names read_parquet adds, which a landed column must not shadow for the native path
_READER_COLUMNS = frozenset({"file_row_number", "file_index", "filename"})


def within(path: str, dirs: Sequence[Path]) -> bool:
    if "://" in path:
        return False  # object storage: never a local directory
    resolved = Path(path).resolve()
    return any(resolved.is_relative_to(Path(d).resolve()) for d in dirs)


def local_file(value: str) -> tuple[pafs.FileSystem, str]:
    """:data:`Locate` for landed files that are local paths (no landing zone given)."""
    return pafs.LocalFileSystem(), value


def present_files(files: Sequence[LandedFile], locate: Locate) -> list[LandedFile]:
    """The files that are there, in order: one listing per folder rather than one
    request per file (what object storage charges and waits for)."""
    folders: dict[tuple[int, str], set[str]] = {}
    systems: dict[int, pafs.FileSystem] = {}
    names: list[tuple[tuple[int, str], str]] = []
    for f in files:
        fs, path = locate(f.path)
        systems[id(fs)] = fs
        folder, _, name = path.rpartition("/")
        names.append(((id(fs), folder), name))
        folders.setdefault((id(fs), folder), set())
    for key in folders:
        infos = systems[key[0]].get_file_info(pafs.FileSelector(key[1], allow_not_found=True))
        folders[key] = {i.base_name for i in infos if i.type == pafs.FileType.File}
    return [f for f, (key, name) in zip(files, names, strict=True) if name in folders[key]]


def _schemas(paths: list[tuple[pafs.FileSystem, str]]) -> list[pa.Schema]:
    def read(located: tuple[pafs.FileSystem, str]) -> pa.Schema:
        return pq.read_schema(located[1], filesystem=located[0])

    if all(isinstance(fs, pafs.LocalFileSystem) for fs, _ in paths) or len(paths) < 2:
        return [read(p) for p in paths]
    with ThreadPoolExecutor(_SCHEMA_READERS) as pool:  # remote: latency-bound
        return list(pool.map(read, paths))


@contextmanager
def landed_relation(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[LandedFile],
    *,
    native: bool,
    locate: Locate = local_file,
) -> Iterator[tuple[str, list[str]]]:
    """``files`` as one relation on ``con``: (its name, the landed columns).

    Files are in landing order; each row carries its batch's rank (``_dcl_seq``),
    ``landed_at`` (``_dcl_landed_at``) and, natively, its row number in the file
    (``_dcl_row``). Columns missing from a file read as null; a column whose type changed
    between files is unified. ``native`` reads with DuckDB's Parquet reader (the files
    must be in the instance's allowed directories), else through pyarrow on the file
    system ``locate`` finds each file in.
    """
    ordered = sorted(files, key=lambda f: (f.landed_at, f.batch_id))
    located = [locate(f.path) for f in ordered]
    schemas = _schemas(located)
    schema = unified_schema(schemas)
    columns = list(schema.names)
    name = f"_dcl_src_{uuid.uuid4().hex}"
    if native and ordered and not _READER_COLUMNS & set(columns):
        paths = ", ".join(literal(f.path) for f in ordered)
        stamps = ", ".join(
            f"CAST({literal(f.landed_at.isoformat())} AS TIMESTAMPTZ)" for f in ordered
        )
        keep = ", ".join(ident(c) for c in columns) or "NULL AS _dcl_empty"
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {keep}, "
            f"CAST(file_index AS INTEGER) AS {SEQ}, "
            f"[{stamps}][CAST(file_index AS BIGINT) + 1] AS {LANDED_AT}, "
            f"file_row_number AS {ROW} FROM read_parquet([{paths}], union_by_name = true, "
            "file_row_number = true)"
        )
        try:
            yield name, columns
        finally:
            with contextlib.suppress(duckdb.Error):  # an aborted transaction took it already
                con.execute(f"DROP VIEW IF EXISTS temp.{name}")
        return
    stamp = pa.timestamp("us", tz="UTC")
    schema = (
        schema.append(pa.field(SEQ, pa.int32()))
        .append(pa.field(LANDED_AT, stamp))
        .append(pa.field(ROW, pa.int64()))
    )
    # one dataset per file system (rows landed before the zone moved may sit elsewhere)
    groups: dict[int, tuple[pafs.FileSystem, list[str], list[ds.Expression]]] = {}
    for i, (f, (fs, path)) in enumerate(zip(ordered, located, strict=True)):
        group = groups.setdefault(id(fs), (fs, [], []))
        group[1].append(path)
        group[2].append(
            (ds.field(SEQ) == i)
            & (ds.field(LANDED_AT) == pa.scalar(f.landed_at, stamp))
            & (ds.field(ROW) == 0)  # no row numbers through pyarrow
        )
    parts = [
        ds.FileSystemDataset.from_paths(
            paths, schema=schema, format=ds.ParquetFileFormat(), filesystem=fs, partitions=exprs
        )
        for fs, paths, exprs in (groups.values() or [(pafs.LocalFileSystem(), [], [])])
    ]
    dataset = parts[0] if len(parts) == 1 else ds.dataset(parts, schema=schema)
    con.register(name, dataset)
    try:
        yield name, columns
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction took it already
            con.unregister(name)


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
        "AND table_name = ? ORDER BY ordinal_position",
        [INTERNAL_SCHEMA, table],
    ).fetchall()
    return [r[0] for r in rows]


def unified_schema(schemas: list[pa.Schema]) -> pa.Schema:
    """One schema over every file: a column whose type differs between files widens
    (permissive promotion), or becomes text when the types do not promote."""
    types: dict[str, list[pa.DataType]] = {}
    for schema in schemas:
        for f in schema:
            if not f.name.startswith(RESERVED_PREFIX):
                types.setdefault(f.name, []).append(f.type)
    fields = []
    for name, seen in types.items():
        unique = list(dict.fromkeys(seen))
        if len(unique) == 1:
            fields.append(pa.field(name, unique[0]))
            continue
        try:
            merged = pa.unify_schemas(
                [pa.schema([pa.field(name, t)]) for t in unique], promote_options="permissive"
            )
            fields.append(merged.field(name))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            fields.append(pa.field(name, pa.string()))
    return pa.schema(fields)
