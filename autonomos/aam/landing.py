"""The landing zone: normalised batches kept as Parquet per tenant/connection/stream.

Later stages (mapping, views) re-derive from here without re-reading the source. A file
is only part of a stream once its ``landed_batches`` manifest row is committed; files
without one (a crash between write and commit) are orphans that ``sweep`` removes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# Landing is on the ingest hot path: LZ4 (LZ4_RAW) writes ~3x faster than zstd with a
# dictionary for every column (measured in benchmarks/RESULTS.md) at a similar size.
COMPRESSION = "lz4"
_DICT_SAMPLE = 1024  # values looked at to decide whether a string column repeats
_DICT_MAX_DISTINCT = 0.25  # dictionary-encode when at most this share is distinct


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
        pq.write_table(
            pa.Table.from_batches([batch]),
            tmp,
            compression=COMPRESSION,
            use_dictionary=_low_cardinality_strings(batch),
        )
        tmp.rename(path)  # a reader never sees a half-written file
        return path

    def read(self, paths: Iterable[str | Path]) -> pa.Table:
        tables = [pq.read_table(p) for p in paths]
        return pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})

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
        another spelling of the root (relative, symlinked) must never count as an orphan.
        """
        kept = {Path(p).name for p in keep}
        directory = self.stream_dir(tenant_id, connection_id, stream)
        if not directory.is_dir():
            return 0
        cutoff = time.time() - older_than_s
        removed = 0
        for f in directory.iterdir():
            if f.name in kept or not f.is_file():
                continue
            try:
                if f.stat().st_mtime > cutoff:
                    continue
                f.unlink()
            except FileNotFoundError:
                continue  # renamed or removed meanwhile
            removed += 1
        return removed
