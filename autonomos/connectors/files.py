"""Files connector: CSV, JSON lines and Parquet from a folder, glob or URL.

Streams: a file directly under the root is the stream named by its stem
(``accounts.csv`` -> ``accounts``); files under a sub-directory are partitions of the
stream named by that directory (``accounts/2024.csv`` -> ``accounts``). ``streams`` in the
config overrides this with explicit globs, relative to ``path``.

Under the platform every path goes through the tenant's edge policy: a local path must
resolve inside the tenant's roots (a relative one is a folder of its upload area), each
file listed is checked, and each file is checked again through the descriptor it is read
from; URLs go through the scheme allow-list, and HTTP(S) connections reach only checked
public addresses (redirects included). See ``autonomos.connectors.edge``.

State (JSON)::

    {"files": {"<path>": {"mtime": 1.7e9, "size": 123, "rows_done": 5000, "done": false,
                          "invalid_rows": 0, "generation": "<hex>"}},
     "cursor": <threshold from the last completed read, or absent>,
     "max_cursor": <running max in this read>}

A finished file whose size and mtime are unchanged is skipped; a changed file is read
again from its first row (the cursor filter, when configured, drops rows already seen).

Complete snapshots (see ``connectors.base``): each file is a part of its stream, and each
read of a file from its first row is a new generation (kept in its entry, so a read
resumed after a crash stays in it). A stream without a cursor field whose files were all
read to their end without an error is complete: after its final state the read yields a
``SnapshotMessage`` with every listed file's generation, so rows removed from a file, and
files removed from the stream, leave the views. Files read before generations existed
hold the snapshot back until they change.
A file that cannot be read is marked done with an ``"error"`` (retried once it changes),
the other files are still read, and ``read`` raises a TERMINAL error after the final
state naming the failed files. Skipped ragged/malformed rows are counted per file in
``invalid_rows`` (and in ``FilesConnector.stats``).
Restrictions: rows whose cursor is null are dropped once a threshold exists; a file
whose schema drifts between JSON chunks yields batches with different schemas.
"""

from __future__ import annotations

import posixpath
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
from fsspec.implementations.local import LocalFileSystem

from autonomos.connectors import _files_formats as fmt
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
from autonomos.connectors.configs.files import FilesConfig, glob_base
from autonomos.connectors.edge import EdgePolicy, LocalRoots, split_url
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

_GLOB_CHARS = set("*?[")
_HTTP = ("http", "https")
# Arrow reads several blocks ahead, so ``block_size`` bounds memory: 1 MiB keeps a read
# near +60 MB RSS, 8 MiB near +300 MB. A CSV row must fit in one block.
MAX_BATCH_BYTES = 128 << 20  # flush a batch early when wide rows make it this big


class GuardedLocalFileSystem(LocalFileSystem):
    """The local filesystem whose every open goes through the tenant's roots."""

    def __init__(self, roots: LocalRoots, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.roots = roots

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        if mode != "rb":
            raise PermissionError("the files connector only reads")
        return self.roots.open(self._strip_protocol(path))


class FilesConnector(Connector):
    """Config: see :class:`~autonomos.connectors.configs.files.FilesConfig`."""

    kind: ClassVar[str] = "files"
    config_model = FilesConfig
    options: FilesConfig

    def __init__(self, config: Mapping[str, Any], *, edge: EdgePolicy | None = None) -> None:
        super().__init__(config, edge=edge)
        self.batch_size = self.options.batch_size
        self.block_size = self.options.block_size
        self.stats: dict[str, fmt.FileStats] = {}  # per file path, from the last read
        self._roots = edge.local if edge is not None else None
        self.fs, self.root, self._pattern = self._resolve()

    def _resolve(self) -> tuple[fsspec.AbstractFileSystem, str, str | None]:
        o = self.options
        fs: fsspec.AbstractFileSystem
        if o.is_local:
            if self._roots is not None:
                fs = GuardedLocalFileSystem(self._roots, skip_instance_cache=True)
                path = fs._strip_protocol(self._roots.absolute(o.local_path))
            else:
                fs = LocalFileSystem()
                path = fs._strip_protocol(o.local_path)
        else:
            options: dict[str, Any] = dict(o.storage_options or {})
            if o.scheme in _HTTP and self.edge is not None:
                from autonomos.connectors.edge.http import aiohttp_client_factory

                options["get_client"] = aiohttp_client_factory(self.edge.hosts)
            elif options.get("endpoint_url") and self.edge is not None:
                # the object store's own client resolves the endpoint again (no pinning)
                endpoint = split_url(str(options["endpoint_url"]), _HTTP)
                self.edge.hosts.resolve(endpoint.host, endpoint.port or 443, strict=True)
            try:  # the scheme's class itself: no fsspec URL chaining ("a::b") ever applies
                cls = fsspec.get_filesystem_class(o.scheme)
                fs = cls(skip_instance_cache=True, **options)
            except (ImportError, ValueError, TypeError) as exc:
                raise self._error(
                    f"cannot open {o.scheme} URLs: {type(exc).__name__}: {exc}",
                    FailureType.CONFIGURATION,
                ) from None
            path = fs._strip_protocol(o.path)
        if _is_glob(path, o.scheme):
            return fs, glob_base(path), path
        return fs, path.rstrip("/") or "/", None

    def _error(self, message: str, failure: FailureType) -> ConnectorError:
        return ConnectorError(redact(message, self.secrets()), failure)

    # -- listing ---------------------------------------------------------------------

    def _format(self, path: str) -> fmt.Format | None:
        if self.options.format:
            return self.options.format
        name = path.lower()
        for comp in fmt.COMPRESSIONS:
            name = name.removesuffix(comp)
        return fmt.FORMATS.get(posixpath.splitext(name)[1])

    def _list(self) -> list[str]:
        try:
            if self._pattern is not None:
                paths = self.fs.glob(self._pattern)
            elif self.fs.isdir(self.root):
                paths = self.fs.find(self.root)
            elif self.fs.exists(self.root):
                paths = [self.root]
            else:
                paths = []
        except OSError as exc:
            raise self._error(f"cannot list {self.root!r}: {exc}", FailureType.TRANSIENT) from exc
        return self._checked(p for p in paths if self._format(p) and not self.fs.isdir(p))

    def _checked(self, paths: Iterator[str] | list[str]) -> list[str]:
        """Sorted paths, each resolved inside the tenant's roots (local paths)."""
        found = sorted(paths)
        if self._roots is not None:
            for path in found:
                self._roots.check(path, "file")
        return found

    def streams(self) -> dict[str, list[str]]:
        """Stream name -> sorted file paths."""
        explicit: Mapping[str, str] = self.options.streams or {}
        out: dict[str, list[str]] = {}
        if explicit:  # globs relative to the root (the model refuses '/', '..' and URLs)
            for name, pattern in explicit.items():
                try:
                    found = self.fs.glob(posixpath.join(self.root, pattern))
                except OSError as exc:
                    raise self._error(
                        f"cannot list stream {name!r}: {exc}", FailureType.TRANSIENT
                    ) from None
                out[name] = self._checked(p for p in found if self._format(p))
            return out
        root = self.root if self.fs.isdir(self.root) else posixpath.dirname(self.root)
        for path in self._list():
            rel = posixpath.relpath(path, root) if root != "/" else path.lstrip("/")
            head = rel.split("/", 1)
            stem = head[0] if len(head) > 1 else head[0].split(".", 1)[0]
            out.setdefault(stem, []).append(path)
        return out

    def _files(self, stream: str) -> list[str]:
        files = self.streams().get(stream)
        if files is None:
            raise self._error(f"unknown stream {stream!r}", FailureType.CONFIGURATION)
        return files

    # -- protocol --------------------------------------------------------------------

    def check(self) -> None:
        if not self.streams():
            raise self._error(
                f"no csv/jsonl/parquet files at {self.options.path!r}",
                FailureType.CONFIGURATION,
            )

    def discover(self) -> list[StreamSchema]:
        pks: Mapping[str, list[str]] = self.options.primary_key
        cursors: Mapping[str, str] = self.options.cursor_field
        out = []
        for name, files in self.streams().items():
            fields: dict[str, FieldSpec] = {}
            for path in files:  # union of the files' columns, first type wins
                try:
                    for spec in self._file_fields(path):
                        fields.setdefault(spec.name, spec)
                except (OSError, pa.ArrowException, ValueError) as exc:
                    self.stats[path] = fmt.FileStats(error=str(exc)[:500])
            out.append(
                StreamSchema(
                    name=name,
                    fields=tuple(fields.values()),
                    primary_key=tuple(pks.get(name, ())),
                    cursor_field=cursors.get(name),
                    extra={"files": str(len(files))},
                )
            )
        return out

    def _file_fields(self, path: str) -> list[FieldSpec]:
        kind = self._format(path)
        opener = fmt.open_file(self.fs, path)
        if kind == "csv":
            with opener() as f:
                encoding = fmt.detect_encoding(f.read(1 << 16))
            names = fmt.csv_header(opener, self._delimiter(path), encoding)
            return [FieldSpec(n, FieldType.STRING, source_type="csv") for n in names]
        assert kind is not None
        return fmt.flatten_fields(fmt.arrow_schema(opener, kind, self.block_size))

    def _delimiter(self, path: str) -> str:
        default = "\t" if ".tsv" in path.lower() else ","
        return self.options.delimiter or default

    def read(self, stream: str, state: Mapping[str, Any] | None) -> Iterator[ReadItem]:
        st: dict[str, Any] = {
            "files": {k: dict(v) for k, v in ((state or {}).get("files") or {}).items()}
        }
        for key in ("cursor", "max_cursor"):
            if state and state.get(key) is not None:
                st[key] = state[key]
        cursor_field = self.options.cursor_field.get(stream)
        files = self._files(stream)
        failed: list[str] = []
        complete = cursor_field is None  # a cursor filters rows out: never a snapshot
        for path in files:
            try:
                info = self.fs.info(path)
            except OSError:
                complete = False
                continue  # vanished between listing and reading
            sig = {"mtime": _mtime(info), "size": info.get("size")}
            entry = st["files"].get(path)
            if entry and entry.get("done") and _same(entry, sig):
                continue
            if not entry or not _same(entry, sig):
                entry = {**sig, "rows_done": 0, "done": False, "invalid_rows": 0}
                if cursor_field is None:  # a new full read of it (a filtered read is none)
                    entry["generation"] = uuid.uuid4().hex
            entry.pop("error", None)
            st["files"][path] = entry
            yield from self._read_file(path, entry, st, cursor_field)
            if entry.get("error"):
                failed.append(f"{path}: {entry['error']}")
        st["files"] = {p: e for p, e in st["files"].items() if p in set(files)}
        if st.get("max_cursor") is not None:  # the read is complete: promote the threshold
            st["cursor"] = st["max_cursor"]
        yield StateMessage(_copy(st))
        if complete and not failed and all(_whole(st["files"].get(p)) for p in files):
            yield SnapshotMessage({p: str(st["files"][p]["generation"]) for p in files})
        if failed:  # the other files were read and their state committed
            raise self._error(
                f"stream {stream!r}: {len(failed)} file(s) unreadable: " + "; ".join(failed[:5]),
                FailureType.TERMINAL,
            )

    def _read_file(
        self, path: str, entry: dict[str, Any], st: dict[str, Any], cursor_field: str | None
    ) -> Iterator[ReadItem]:
        stats = self.stats[path] = fmt.FileStats(rows=entry["rows_done"])
        opener = fmt.open_file(self.fs, path)
        kind = self._format(path)
        skip = int(entry["rows_done"])
        if kind == "csv":
            batches = fmt.read_csv(
                opener,
                stats,
                delimiter=self._delimiter(path),
                block_size=self.block_size,
                skip=skip,
            )
        elif kind == "jsonl":
            batches = fmt.read_jsonl(opener, stats, block_size=self.block_size, skip=skip)
        else:
            batches = fmt.read_parquet(opener, batch_size=self.batch_size, skip=skip)
        try:
            for batch in _rebatch(batches, self.batch_size):
                entry["rows_done"] += batch.num_rows
                entry["invalid_rows"] = stats.invalid_rows
                stats.rows = entry["rows_done"]
                if cursor_field:
                    batch = _filter_cursor(batch, cursor_field, st)
                if batch.num_rows:
                    yield RecordBatchMessage(batch, part=path, generation=entry.get("generation"))
                yield StateMessage(_copy(st))
        except (OSError, pa.ArrowException, ValueError, UnicodeError) as exc:
            stats.error = redact(f"{type(exc).__name__}: {exc}", self.secrets())[:500]
            entry["error"] = stats.error
        entry["done"] = True
        entry["invalid_rows"] = stats.invalid_rows
        yield StateMessage(_copy(st))


def _is_glob(path: str, scheme: str | None) -> bool:
    """Whether ``path`` is a pattern; in an HTTP(S) URL only a ``*`` in its path is (a
    ``?`` starts the query, ``[`` an IPv6 host)."""
    if scheme in _HTTP:
        return "*" in urllib.parse.urlsplit(path).path
    return bool(_GLOB_CHARS & set(path))


def _rebatch(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """Batches of ``size`` rows (or MAX_BATCH_BYTES) from a stream of arbitrary ones."""
    buf: list[pa.RecordBatch] = []
    rows = nbytes = 0
    for batch in batches:
        while batch.num_rows:
            if buf and batch.schema != buf[0].schema:
                yield pa.concat_batches(buf)
                buf, rows, nbytes = [], 0, 0
            take = batch.slice(0, size - rows)
            batch = batch.slice(take.num_rows)
            buf.append(take)
            rows += take.num_rows
            nbytes += take.nbytes
            if rows >= size or nbytes >= MAX_BATCH_BYTES:
                yield pa.concat_batches(buf)
                buf, rows, nbytes = [], 0, 0
    if buf:
        yield pa.concat_batches(buf)


def _filter_cursor(batch: pa.RecordBatch, name: str, st: dict[str, Any]) -> pa.RecordBatch:
    if name not in batch.schema.names:
        return batch
    col = batch.column(name)
    threshold = st.get("cursor")
    if threshold is not None:
        batch = batch.filter(pc.greater(col, _scalar(threshold, col.type)))
        col = batch.column(name)
    if batch.num_rows:
        top = pc.max(col)
        current = st.get("max_cursor")
        if top.is_valid and (
            current is None or pc.greater(top, _scalar(current, col.type)).as_py()
        ):
            st["max_cursor"] = _jsonable(top.as_py())
    return batch


def _scalar(value: Any, typ: pa.DataType) -> pa.Scalar:
    return pa.scalar(value).cast(typ)


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _mtime(info: Mapping[str, Any]) -> Any:
    value = info.get("mtime", info.get("LastModified", info.get("created")))
    return _jsonable(value) if value is not None else None


def _whole(entry: Mapping[str, Any] | None) -> bool:
    """Whether a file's entry is a whole read of it, in a known generation (a file that
    failed earlier and has not changed since is not)."""
    return bool(entry and entry.get("done") and entry.get("generation") and not entry.get("error"))


def _same(entry: Mapping[str, Any], sig: Mapping[str, Any]) -> bool:
    return entry.get("mtime") == sig["mtime"] and entry.get("size") == sig["size"]


def _copy(st: dict[str, Any]) -> dict[str, Any]:
    return {**st, "files": {k: dict(v) for k, v in st["files"].items()}}
