"""The landing zone: normalised batches kept as Parquet per tenant/connection/stream.

Later stages (mapping, views) re-derive from here without re-reading the source. A file
is only part of a stream once its ``landed_batches`` manifest row is committed; files
without one (a crash between write and commit) are orphans that ``sweep`` removes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


class LandingZone:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def stream_dir(self, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stream) or "_"
        return self.root / str(tenant_id) / str(connection_id) / safe

    def write(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str, batch: pa.RecordBatch
    ) -> Path:
        directory = self.stream_dir(tenant_id, connection_id, stream)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{uuid.uuid4().hex}.parquet"
        tmp = path.with_suffix(".tmp")
        pq.write_table(pa.Table.from_batches([batch]), tmp, compression="zstd")
        tmp.rename(path)  # a reader never sees a half-written file
        return path

    def read(self, paths: Iterable[str | Path]) -> pa.Table:
        tables = [pq.read_table(p) for p in paths]
        return pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})

    def sweep(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str, keep: set[str]
    ) -> int:
        """Delete files of the stream that no committed manifest row lists."""
        removed = 0
        directory = self.stream_dir(tenant_id, connection_id, stream)
        for f in directory.glob("*") if directory.exists() else ():
            if str(f) not in keep:
                f.unlink(missing_ok=True)
                removed += 1
        return removed
