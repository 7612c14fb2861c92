"""Ingest throughput on one thread: bare Arrow parse vs per-record pydantic vs ours.

    python benchmarks/ingest.py [--rows 2000000] [--baseline-rows 200000]

(a) ceiling:  pyarrow.csv.read_csv, types inferred by Arrow's C++ parser;
(b) baseline: csv.DictReader + one pydantic model validated per record (run on the first
    --baseline-rows rows and reported as rows/s; it is linear in rows);
(c) ours:     the production path minus SQL: FilesConnector.read (all columns as strings,
              as an untyped source is read, in its default batches) -> infer_schema on the
              first batch -> normalize_batch -> fingerprint -> LandingZone.write (one
              Parquet file per batch, as a sync lands them).
Rates are rows per second of CPU time (``time.process_time``), best of ``--repeat``
interleaved runs: everything runs on one thread, and CPU time is what the box's other
load distorts least; wall-clock rates are printed beside them.
Goals: ours >= 70% of the ceiling, >= 4x the baseline; peak RSS < 1.5 GB at 10M rows;
fingerprint of a 500-column schema < 1 ms.
The CSV is generated once per row count (fixed seed) and cached in the temp dir.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import resource
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pydantic import BaseModel

from autonomos.aam.fingerprint import fingerprint
from autonomos.aam.landing import LandingZone
from autonomos.aam.normalize import infer_schema, normalize_batch
from autonomos.connectors.base import RecordBatchMessage
from autonomos.connectors.files import FilesConnector
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

SEED = 20240601
T = TypeVar("T")


def _uniform(n: int, seed: int) -> pa.Array:
    return pc.random(n, initializer=seed)


def _ints(n: int, seed: int, scale: float) -> pa.Array:
    return pc.cast(pc.multiply(_uniform(n, seed), scale), pa.int64(), safe=False)


def _chunk(n: int, seed: int) -> pa.Table:
    cols: dict[str, pa.Array] = {}
    for i in range(5):
        cols[f"IntCol{i}"] = _ints(n, seed + i, 10.0 ** (3 + i))
    for i in range(4):
        cols[f"float_col_{i}"] = pc.round(pc.multiply(_uniform(n, seed + 10 + i), 1e4), 3)
    base = 1_700_000_000_000_000
    for i in range(3):
        us = pc.add(_ints(n, seed + 20 + i, 3e13), base)
        ts = pc.cast(us, pa.timestamp("us", tz="UTC" if i < 2 else None))
        cols[f"EventTime{i}"] = ts
    for i in range(6):
        cols[f"label.{i}"] = pc.binary_join_element_wise(
            f"name_{i}_", pc.cast(_ints(n, seed + 30 + i, 5e4), pa.string()), ""
        )
    for i in range(2):
        cols[f"is_flag_{i}"] = pc.less(_uniform(n, seed + 40 + i), 0.5)
    return pa.table(cols)


def dataset(rows: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"autonomos-ingest-{rows}-{SEED}.csv"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    step = 500_000
    with pacsv.CSVWriter(tmp, _chunk(1, SEED).schema) as w:
        for k, start in enumerate(range(0, rows, step)):
            w.write_table(_chunk(min(step, rows - start), SEED + 1000 * k))
    os.replace(tmp, path)
    return path


def ceiling(path: Path) -> int:
    return pacsv.read_csv(path, read_options=pacsv.ReadOptions(use_threads=False)).num_rows


class Record(BaseModel):
    IntCol0: int
    IntCol1: int
    IntCol2: int
    IntCol3: int
    IntCol4: int
    float_col_0: float
    float_col_1: float
    float_col_2: float
    float_col_3: float
    EventTime0: datetime
    EventTime1: datetime
    EventTime2: datetime
    label_0: str
    label_1: str
    label_2: str
    label_3: str
    label_4: str
    label_5: str
    is_flag_0: bool
    is_flag_1: bool


def baseline(path: Path, rows: int) -> int:
    n = 0
    with open(path, newline="") as f:
        for rec in itertools.islice(csv.DictReader(f), rows):
            Record.model_validate({k.replace(".", "_"): v for k, v in rec.items()})
            n += 1
    return n


def ours(path: Path, out: Path) -> tuple[int, int, int]:
    """(rows landed, rows quarantined, files landed) through the production components."""
    connector = FilesConnector({"path": str(path)})
    (stream,) = connector.discover()
    landing = LandingZone(out)
    tenant, connection = uuid.uuid4(), uuid.uuid4()
    rows = bad = files = 0
    schema = None
    for item in connector.read(stream.name, None):
        if not isinstance(item, RecordBatchMessage):
            continue
        if schema is None:
            schema = infer_schema(item.batch, stream.name)
        res = normalize_batch(item.batch, schema)
        fingerprint(schema)  # as SyncEngine does per landed batch
        landing.write(tenant, connection, stream.name, res.batch)
        rows += res.batch.num_rows
        bad += res.quarantined.num_rows
        files += 1
    return rows, bad, files


def fingerprint_500() -> tuple[float, float]:
    """(first call, best of 20) in ms for a 500-column schema."""
    fields = tuple(
        FieldSpec(f"Column{i}.Value", list(FieldType)[i % len(FieldType)]) for i in range(500)
    )
    schema = StreamSchema("wide", fields)
    t = time.perf_counter()
    fingerprint(schema)
    first = time.perf_counter() - t
    best = min(_timed(fingerprint, schema)[1] for _ in range(20))
    return first * 1e3, best * 1e3


def _timed(fn: Callable[..., T], *args: Any) -> tuple[T, float, float]:
    """(result, wall seconds, CPU seconds)."""
    w, c = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - w, time.process_time() - c


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--baseline-rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N for ours and ceiling")
    ap.add_argument("--skip", nargs="*", default=[], choices=["ceiling", "baseline"])
    a = ap.parse_args(argv)
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    path = dataset(a.rows)
    print(f"data: {path} ({path.stat().st_size / 1e6:.0f} MB, {a.rows:,} rows x 20 cols)")
    runs: dict[str, list[tuple[int, float, float]]] = {"ours": [], "ceiling": []}
    extra = ""
    for i in range(a.repeat):  # interleaved, so drifting load hits both alike
        with tempfile.TemporaryDirectory() as d:
            (n, bad, files), wall, c = _timed(ours, path, Path(d))
        runs["ours"].append((n, wall, c))
        extra = f"; {files} files, {bad} quarantined"
        if i == 0:  # before the ceiling's whole-file table inflates it
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if "ceiling" not in a.skip:
            runs["ceiling"].append(_timed(ceiling, path))
    cpu: dict[str, float] = {}
    labels = {"ours": "connector+normalize+land", "ceiling": "read_csv"}
    for key, tag in (("ours", "(c)"), ("ceiling", "(a)")):
        if runs[key]:
            n, wall, c = min(runs[key], key=lambda r: r[2])
            cpu[key] = n / c
            spread = ", ".join(f"{r[0] / r[2]:,.0f}" for r in runs[key])
            print(
                f"{tag} {key:8s} {labels[key]:24s} {n / c:>10,.0f} rows/cpu-s "
                f"(best of [{spread}]; {c:.2f}s cpu, {n / wall:,.0f} rows/s wall"
                f"{extra if key == 'ours' else ''})"
            )
    if "baseline" not in a.skip:
        n, wall, c = _timed(baseline, path, a.baseline_rows)
        cpu["baseline"] = n / c
        print(
            f"(b) baseline DictReader+pydantic          {n / c:>10,.0f} rows/cpu-s "
            f"({c:.2f}s cpu, {n / wall:,.0f} rows/s wall, {n:,} rows)"
        )
    if "ceiling" in cpu:
        r = cpu["ours"] / cpu["ceiling"]
        print(f"ours/ceiling  = {r:.2f}  (goal >= 0.70: {'met' if r >= 0.7 else 'NOT met'})")
    if "baseline" in cpu:
        r = cpu["ours"] / cpu["baseline"]
        print(f"ours/baseline = {r:.1f}x (goal >= 4x: {'met' if r >= 4 else 'NOT met'})")
    print(f"peak RSS during ours: {rss_mb:,.0f} MB (goal < 1,536 MB at 10M rows)")
    first, best = fingerprint_500()
    print(f"fingerprint, 500 columns: {best:.3f} ms (first call {first:.2f} ms; goal < 1 ms)")


if __name__ == "__main__":
    main()
