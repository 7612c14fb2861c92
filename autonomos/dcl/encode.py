"""Query results as JSON: DuckDB/Arrow values as JSON values, and the sandbox's result
encoder, bounded by rows, bytes and a deadline.

The encoder takes Arrow record batches as DuckDB streams them and turns them into the
response's ``rows`` array a row at a time, so a query stops costing anything once its
answer is full: rows past ``max_rows`` or past ``max_bytes`` of encoded JSON are never
converted, and the rest of the stream is never fetched. Before converting, a slice's
Arrow size is compared with what is left of the byte budget, so a single 100 MB cell is
refused from its Arrow size alone, without being copied into Python first.

Restriction: DuckDB produces rows a vector (up to 2,048 rows) at a time, so the engine
may hold one vector of a query whose rows are huge before the encoder can refuse it
(bounded by the instance's ``memory_limit``).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pyarrow as pa

from autonomos.dcl.errors import QueryTimeout

# Arrow bytes a slice may have per byte of budget left before it is converted: JSON text
# is rarely smaller than Arrow's buffers (an int64 0 is 8 bytes there, 1 here), and a
# row this much larger than what is left cannot fit.
_ARROW_PER_JSON_BYTE = 4
_SLACK_BYTES = 1 << 20
_SLICE_ROWS = 1_024  # rows encoded at once; the deadline is checked between slices


def jsonable(value: Any) -> Any:
    """A DuckDB result value as JSON: decimals as numbers, times as ISO 8601 text,
    intervals as seconds, non-finite floats as text (``"nan"``, ``"inf"``)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):  # JSON has no NaN or infinities
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, pa.MonthDayNano):  # DuckDB counts a month as 30 days
        return (value.months * 30 + value.days) * 86_400 + value.nanoseconds / 1e9
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def json_cell(value: Any) -> Any:
    """A DuckDB JSON value as its parsed structure (text that is not JSON stays text)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return jsonable(value)


def _dumps(value: Any) -> bytes:
    # what FastAPI's JSONResponse writes (compact, UTF-8, no NaN)
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class QueryResult:
    """A sandbox answer: ``rows_json`` is the already-encoded JSON array of rows, so
    nothing after the sandbox encodes (or re-validates) the rows again."""

    columns: list[dict[str, str]]  # name, type
    rows_json: bytes
    row_count: int
    truncated: bool
    elapsed_ms: float

    @cached_property
    def rows(self) -> list[list[Any]]:
        rows: list[list[Any]] = json.loads(self.rows_json)
        return rows

    def to_json(self) -> bytes:
        """The whole answer as the API sends it (``QueryOut``)."""
        head = _dumps({"columns": self.columns})[:-1]  # '{"columns":[...]' without '}'
        counts = {"row_count": self.row_count, "truncated": self.truncated}
        tail = _dumps({**counts, "elapsed_ms": self.elapsed_ms})[1:]  # without '{'
        return b"".join((head, b',"rows":', self.rows_json, b",", tail))

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "rows": self.rows,
            "row_count": self.row_count,
            "truncated": self.truncated,
            "elapsed_ms": self.elapsed_ms,
        }


def _finite(value: Any) -> Any:
    return value if value is None or math.isfinite(value) else str(value)


def _converter(arrow_type: pa.DataType, duck_type: str) -> Callable[[Any], Any] | None:
    """How a column's Python values become JSON (None: they already are)."""
    if duck_type == "JSON":
        return json_cell
    if (
        pa.types.is_integer(arrow_type)
        or pa.types.is_boolean(arrow_type)
        or pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_null(arrow_type)
    ):
        return None
    if pa.types.is_floating(arrow_type):
        return _finite
    return jsonable


class RowEncoder:
    """Encodes streamed batches into a JSON array until a row, byte or time limit.

    :meth:`add` returns False once the answer is complete (a limit was reached: the
    caller stops fetching); :attr:`truncated` says whether rows were left out. Rows are
    encoded a slice at a time, and one at a time only in the slice that crosses the
    byte limit, so the answer stops at the last whole row that fits.
    """

    def __init__(
        self, types: list[str], *, max_rows: int, max_bytes: int, deadline: float, timeout_s: float
    ) -> None:
        self.types = types
        self.max_rows, self.max_bytes = max_rows, max_bytes
        self.deadline, self.timeout_s = deadline, timeout_s
        self._pieces: list[bytes] = []  # runs of encoded rows, comma-separated inside
        self._bytes = 2  # the brackets
        self.row_count = 0
        self.truncated = False

    def rows_json(self) -> bytes:
        return b"[" + b",".join(self._pieces) + b"]"

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise QueryTimeout.after(self.timeout_s)

    def add(self, batch: pa.RecordBatch) -> bool:
        while batch.num_rows:
            self.check_time()
            if self.row_count == self.max_rows:  # the query asked for one row more
                self.truncated = True
                return False
            take = min(self._affordable(batch), self.max_rows - self.row_count, _SLICE_ROWS)
            if take == 0:  # the next row alone is far over what is left
                self.truncated = True
                return False
            if not self._encode(batch.slice(0, take)):
                return False
            batch = batch.slice(take)
        return True

    def _affordable(self, batch: pa.RecordBatch) -> int:
        """How many leading rows of ``batch`` are worth converting now (by Arrow size)."""
        limit = (self.max_bytes - self._bytes) * _ARROW_PER_JSON_BYTE + _SLACK_BYTES
        if batch.nbytes <= limit:
            return int(batch.num_rows)
        low, high = 0, batch.num_rows  # the longest prefix within the limit
        while low < high:
            mid = (low + high + 1) // 2
            if batch.slice(0, mid).nbytes <= limit:
                low = mid
            else:
                high = mid - 1
        return low

    def _encode(self, batch: pa.RecordBatch) -> bool:
        columns = []
        for column, duck_type in zip(batch.columns, self.types, strict=True):
            values = column.to_pylist(maps_as_pydicts="lossy")
            convert = _converter(column.type, duck_type)
            columns.append(values if convert is None else [convert(v) for v in values])
        rows = list(zip(*columns, strict=True))
        run = _dumps(rows)[1:-1]  # the whole slice at once: the usual case
        if self._fits(run):
            self.row_count += len(rows)
            return True
        for row in rows:  # the slice that crosses the limit: the rows that still fit
            if not self._fits(_dumps(row)):
                self.truncated = True
                return False
            self.row_count += 1
        return True  # not reached: the rows of a run that did not fit cannot all fit

    def _fits(self, run: bytes) -> bool:
        size = len(run) + (1 if self._pieces else 0)
        if self._bytes + size > self.max_bytes:
            return False
        self._pieces.append(run)
        self._bytes += size
        return True
