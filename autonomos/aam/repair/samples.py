"""Sample values for evidence, read from landed Parquet (never from the source)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from autonomos.aam.normalize import normalize_name

__all__ = ["LandedSamples", "distinct_values"]

log = logging.getLogger("autonomos.repair.samples")
MAX_ROWS = 2_000  # rows read per side: enough for a handful of distinct values
MAX_TEXT = 120


def _text(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    return s if len(s) <= MAX_TEXT else s[: MAX_TEXT - 1] + "…"


def distinct_values(column: pa.ChunkedArray | pa.Array, k: int = 5) -> list[str]:
    """Up to ``k`` distinct non-null values, as text, in order of appearance."""
    out: list[str] = []
    seen: set[str] = set()
    for v in column.drop_null().slice(0, MAX_ROWS).to_pylist():
        t = _text(v)
        if t not in seen:
            seen.add(t)
            out.append(t)
            if len(out) == k:
                break
    return out


Opener = Callable[[str], Any]  # a manifest value -> a readable file (the landing zone's)


def _open_local(path: str) -> Any:
    return path


class _Side:
    def __init__(self, paths: Sequence[str | Path], opener: Opener = _open_local) -> None:
        self.paths = list(paths)
        self.opener = opener
        self._table: pa.Table | None = None

    def table(self) -> pa.Table:
        if self._table is None:
            tables = []
            rows = 0
            for p in self.paths:  # newest first
                try:  # only the first rows of each file: evidence, not statistics
                    source = self.opener(str(p))
                    first = next(pq.ParquetFile(source).iter_batches(batch_size=MAX_ROWS), None)
                except (OSError, pa.ArrowInvalid) as e:
                    log.warning("cannot read landed file %s: %s", p, e)
                    continue
                if first is None:
                    continue
                t = pa.Table.from_batches([first])
                tables.append(t)
                rows += t.num_rows
                if rows >= MAX_ROWS:
                    break
            self._table = (
                pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})
            )
        return self._table

    def values(self, path: str, k: int) -> list[str]:
        t = self.table()
        names = {normalize_name(n): i for i, n in enumerate(t.column_names)}
        i = names.get(normalize_name(path))
        return [] if i is None else distinct_values(t.column(i), k)


class LandedSamples:
    """``before(path)`` / ``after(path)``: values landed under the old / new schema."""

    def __init__(
        self,
        before_paths: Sequence[str | Path],
        after_paths: Sequence[str | Path],
        k: int = 5,
        *,
        opener: Opener = _open_local,
    ) -> None:
        """``opener``: opens a landed file (``LandingZone.open``; default: local paths)."""
        self.k = k
        self._before, self._after = _Side(before_paths, opener), _Side(after_paths, opener)

    def before(self, path: str) -> list[str]:
        return self._before.values(path, self.k)

    def after(self, path: str) -> list[str]:
        return self._after.values(path, self.k)
