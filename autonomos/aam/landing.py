"""The landing zone: normalised batches kept as Parquet per tenant/connection/stream.

Later stages (mapping, views) re-derive from here without re-reading the source. A file
is only part of a stream once its ``landed_batches`` manifest row is committed; files
without one (a crash between write and commit) are orphans that ``sweep`` removes.

The zone lives in a local folder (the default, one machine) or on storage every node of
a cluster reads (``AUTONOMOS_LANDING_URL``: object storage or a shared ``file://`` mount;
see :mod:`autonomos.aam.storage`). Writes are atomic on both: in a folder a file is
written under a temporary name and renamed; on object storage the whole file is encoded
in memory and uploaded as one object, which the store makes visible only once the upload
completes (a writer killed mid-upload leaves nothing a reader can list or open; the
store's lifecycle rule for incomplete multipart uploads reclaims the parts).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from autonomos.aam.storage import LandingError, Storage, StorageOptions, open_storage

if TYPE_CHECKING:
    from autonomos.config import Settings

__all__ = ["COMPRESSION", "LandingError", "LandingZone", "StorageOptions"]

# Landing is on the ingest hot path: LZ4 (LZ4_RAW) writes ~3x faster than zstd with a
# dictionary for every column (measured in benchmarks/RESULTS.md) at a similar size.
COMPRESSION = "lz4"
_DICT_SAMPLE = 1024  # values looked at to decide whether a string column repeats
_DICT_MAX_DISTINCT = 0.25  # dictionary-encode when at most this share is distinct
_TMP_SUFFIX = ".tmp"


def _low_cardinality_strings(batch: pa.RecordBatch) -> list[str]:
    """String columns worth a dictionary (e.g. status, country): building one for a
    high-cardinality column costs more time than it saves space."""
    out = []
    for f, col in zip(batch.schema, batch.columns, strict=True):
        if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            continue
        sample = col.slice(0, _DICT_SAMPLE)
        if len(sample) and pc.count_distinct(sample).as_py() <= _DICT_MAX_DISTINCT * len(sample):
            out.append(f.name)
    return out


def file_name(value: str) -> str:
    """The last part of a manifest value (a path or a URL)."""
    return value.rstrip("/").rsplit("/", 1)[-1]


class LandingZone:
    """Where landed batches are written, listed, read and swept.

    Paths handed out (``write``, ``list_files``) are manifest values: what
    ``landed_batches.path`` keeps and what every read method takes back.
    """

    def __init__(self, root: Path | str, options: StorageOptions | None = None) -> None:
        self.storage: Storage = open_storage(root, options)

    @classmethod
    def from_settings(cls, settings: Settings) -> LandingZone:
        """The zone ``AUTONOMOS_LANDING_URL`` names (``<data dir>/landing`` by default)."""
        return cls(settings.landing_location, StorageOptions.from_settings(settings))

    @property
    def url(self) -> str:
        """The zone's root as configured (a folder or a URL; never credentials)."""
        return self.storage.url

    @property
    def is_local(self) -> bool:
        return self.storage.local

    def tenant_dir(self, tenant_id: uuid.UUID) -> Path | None:
        """The tenant's folder when the zone is a folder (DuckDB reads it natively), else
        None (object storage is read through Arrow)."""
        if not self.storage.local:
            return None
        return Path(self.storage.root) / str(uuid.UUID(str(tenant_id)))

    def _stream_path(self, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stream) or "_"
        safe = "_" if safe in (".", "..") else safe
        return f"{self.storage.root}/{tenant_id}/{connection_id}/{safe}"

    # -- writes --------------------------------------------------------------------------

    def write(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str, batch: pa.RecordBatch
    ) -> str:
        """Land one batch as a new Parquet file; its manifest value. Atomic: a reader
        sees the whole file or nothing."""
        directory = self._stream_path(tenant_id, connection_id, stream)
        path = f"{directory}/{uuid.uuid4().hex}.parquet"
        table = pa.Table.from_batches([batch])
        options = {"compression": COMPRESSION, "use_dictionary": _low_cardinality_strings(batch)}
        fs = self.storage.filesystem
        try:
            if self.storage.local:
                Path(directory).mkdir(parents=True, exist_ok=True)
                tmp = path.removesuffix(".parquet") + _TMP_SUFFIX
                pq.write_table(table, tmp, **options)
                fs.move(tmp, path)  # a rename: a reader never sees a half-written file
            else:
                sink = pa.BufferOutputStream()
                pq.write_table(table, sink, **options)
                self._upload(path, sink.getvalue())
        except (OSError, pa.ArrowException) as exc:
            if isinstance(exc, LandingError):
                raise
            raise LandingError(f"landing a batch in {self.url} failed: {exc}") from None
        return self.storage.to_manifest(path)

    def _upload(self, path: str, data: pa.Buffer) -> None:
        """One object, one write, one close: the store publishes it only when the close
        completes the upload. (No ``create_dir``: object stores have no folders, and a
        marker object per folder would only cost requests.)"""
        out = self.storage.filesystem.open_output_stream(path)
        out.write(data)
        out.close()

    # -- reads ---------------------------------------------------------------------------

    def locate(self, value: str) -> tuple[pafs.FileSystem, str]:
        """A manifest value's file system and path inside it."""
        return self.storage.locate(str(value))

    def open(self, value: str) -> pa.NativeFile:
        """A landed file opened for random access (Parquet footers, row groups)."""
        fs, path = self.locate(value)
        return fs.open_input_file(path)

    def read_schema(self, value: str) -> pa.Schema:
        fs, path = self.locate(value)
        return pq.read_schema(path, filesystem=fs)

    def read(self, values: Iterable[str | Path]) -> pa.Table:
        tables = []
        for v in values:
            fs, path = self.locate(str(v))
            tables.append(pq.read_table(path, filesystem=fs))
        return pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})

    def list_files(self, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str) -> list[str]:
        """Every file in the stream's folder (committed or not), as manifest values."""
        folder = self._stream_path(tenant_id, connection_id, stream)
        infos = self._list(self.storage.filesystem, folder)
        files = [i.path for i in infos if i.type == pafs.FileType.File]
        return sorted(self.storage.to_manifest(p) for p in files)

    def _list(self, fs: pafs.FileSystem, folder: str) -> list[pafs.FileInfo]:
        try:
            return list(fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True)))
        except (OSError, pa.ArrowException) as exc:
            raise LandingError(
                f"listing {folder} in the landing zone {self.url} failed: {exc}"
            ) from None

    # -- orphans -------------------------------------------------------------------------

    def sweep(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        stream: str,
        keep: Iterable[str | Path],
        *,
        older_than_s: float = 0.0,
    ) -> int:
        """Delete the stream's files that no committed manifest row lists (``keep``: the
        committed paths), leaving any modified less than ``older_than_s`` ago alone (a
        concurrent writer's file, not yet committed). Returns how many were deleted.

        Files are matched by name: names are random UUIDs, and a path recorded under
        another spelling of the root (relative, symlinked, another URL) must never count
        as an orphan. Works the same on object storage (list, then delete each orphan).
        """
        kept = {file_name(str(p)) for p in keep}
        fs = self.storage.filesystem
        cutoff_ns = time.time_ns() - int(older_than_s * 1e9)
        removed = 0
        for info in self._list(fs, self._stream_path(tenant_id, connection_id, stream)):
            if info.type != pafs.FileType.File or file_name(info.path) in kept:
                continue
            if info.mtime_ns is not None and info.mtime_ns > cutoff_ns:
                continue
            try:
                fs.delete_file(info.path)
            except FileNotFoundError:
                continue  # renamed or removed meanwhile
            except (OSError, pa.ArrowException) as exc:
                raise LandingError(f"removing an orphan from {self.url} failed: {exc}") from None
            removed += 1
        return removed
