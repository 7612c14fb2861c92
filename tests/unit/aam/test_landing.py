"""LandingZone: Parquet write options and the orphan sweep, on real files."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from autonomos.aam.landing import LandingZone


def test_write_round_trips_with_dictionaries_only_where_values_repeat(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    n = 4_000
    batch = pa.record_batch(
        {
            "status": ["open", "closed", "won", "lost"] * (n // 4),
            "email": [f"user{i}@example.com" for i in range(n)],
            "amount": [i * 1.5 for i in range(n)],
        }
    )
    path = Path(zone.write(uuid.uuid4(), uuid.uuid4(), "deals", batch))
    assert path.suffix == ".parquet" and not list(tmp_path.rglob("*.tmp"))
    assert pq.read_table(path).to_batches()[0].equals(batch)
    meta = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(3)}
    assert "RLE_DICTIONARY" in encodings["status"]
    assert "RLE_DICTIONARY" not in encodings["email"]
    assert "RLE_DICTIONARY" not in encodings["amount"]


def test_sweep_removes_only_old_unlisted_files(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    tid, cid = uuid.uuid4(), uuid.uuid4()
    batch = pa.record_batch({"id": [1, 2]})
    committed, orphan, young = (Path(zone.write(tid, cid, "s", batch)) for _ in range(3))
    old = time.time() - 600
    for p in (committed, orphan):
        os.utime(p, (old, old))
    # the manifest may spell the root differently: files are matched by name
    keep = {os.path.relpath(committed)}
    assert zone.sweep(tid, cid, "s", keep, older_than_s=60) == 1
    assert committed.exists() and young.exists() and not orphan.exists()
    assert zone.sweep(tid, cid, "s", keep) == 1  # no grace: the young one goes too
    assert not young.exists() and committed.exists()
    assert zone.sweep(tid, cid, "never-landed", keep) == 0
