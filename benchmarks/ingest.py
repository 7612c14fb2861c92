"""Ingest throughput on one thread: bare Arrow parse vs per-record pydantic vs ours.

    python benchmarks/ingest.py [--rows 2000000] [--baseline-rows 200000]

(a) ceiling:  pyarrow.csv.read_csv, types inferred by Arrow's C++ parser;
(b) baseline: csv.DictReader + one pydantic model validated per record (run on the first
    --baseline-rows rows and reported as rows/s; it is linear in rows);
(c) ours:     pyarrow.csv.open_csv (all columns as strings, as an untyped source is read)
              -> infer_schema on the first batch -> normalize_batch -> fingerprint
              -> one Parquet file via ParquetWriter.
Goals: ours >= 70% of the ceiling, >= 4x the baseline; peak RSS < 1.5 GB at 10M rows.
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
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import BaseModel

from autonomos.aam.fingerprint import fingerprint
from autonomos.aam.normalize import infer_schema, normalize_batch

SEED = 20240601
BLOCK = 1 << 22  # 4 MiB CSV blocks: ~35k rows a batch


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


def ours(path: Path, out: Path) -> tuple[int, int]:
    opts = pacsv.ReadOptions(use_threads=False, block_size=1 << 16)
    names = pacsv.open_csv(path, read_options=opts).schema.names
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=False, block_size=BLOCK),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True
        ),
    )
    rows = bad = 0
    writer = None
    schema = None
    for batch in reader:
        if schema is None:
            schema = infer_schema(batch, "bench")
            fingerprint(schema)
        res = normalize_batch(batch, schema)
        if writer is None:
            # lz4 without dictionaries: landing files are rewritten by the DCL anyway, and
            # dictionary-encoding high-cardinality columns costs more than it saves
            writer = pq.ParquetWriter(
                out, res.batch.schema, compression="lz4", use_dictionary=False
            )
        writer.write_batch(res.batch)
        rows += res.batch.num_rows
        bad += res.quarantined.num_rows
    if writer is not None:
        writer.close()
    return rows, bad


def _timed(fn, *args):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--baseline-rows", type=int, default=200_000)
    ap.add_argument("--skip", nargs="*", default=[], choices=["ceiling", "baseline"])
    a = ap.parse_args(argv)
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    path = dataset(a.rows)
    print(f"data: {path} ({path.stat().st_size / 1e6:.0f} MB, {a.rows:,} rows x 20 cols)")
    with tempfile.TemporaryDirectory() as d:
        (n, bad), s = _timed(ours, path, Path(d) / "out.parquet")
    results: dict[str, float] = {}
    results["ours"] = n / s
    print(f"(c) ours     stream+normalize+pq {n / s:>12,.0f} rows/s ({s:.2f}s, {bad} quarantined)")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if "ceiling" not in a.skip:
        n, s = _timed(ceiling, path)
        results["ceiling"] = n / s
        print(f"(a) ceiling  read_csv            {n / s:>12,.0f} rows/s ({s:.2f}s)")
    if "baseline" not in a.skip:
        n, s = _timed(baseline, path, a.baseline_rows)
        results["baseline"] = n / s
        print(f"(b) baseline DictReader+pydantic {n / s:>12,.0f} rows/s ({s:.2f}s, {n:,} rows)")
    if "ceiling" in results:
        r = results["ours"] / results["ceiling"]
        print(f"ours/ceiling  = {r:.2f}  (goal >= 0.70: {'met' if r >= 0.7 else 'NOT met'})")
    if "baseline" in results:
        r = results["ours"] / results["baseline"]
        print(f"ours/baseline = {r:.1f}x (goal >= 4x: {'met' if r >= 4 else 'NOT met'})")
    print(f"peak RSS during ours: {rss_mb:,.0f} MB (goal < 1,536 MB at 10M rows)")


if __name__ == "__main__":
    main()
