"""Per-format streaming readers for the files connector (CSV, JSON lines, Parquet).

Each reader yields Arrow record batches of *good* rows in file order, in bounded memory
(one block at a time), and reports the rows it had to skip through a :class:`FileStats`.
Resuming skips the first ``rows_done`` good rows, so a reader must be deterministic.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Literal

import fsspec
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq

from autonomos.connectors.schema import FieldSpec, FieldType

Format = Literal["csv", "jsonl", "parquet"]
FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
COMPRESSIONS = (".gz", ".bz2", ".zst", ".xz")
_SAMPLE_BYTES = 1 << 20
_MAX_INVALID_SAMPLES = 5
# Encodings tried, in order, when a file is not UTF-8; latin-1 decodes any byte.
_FALLBACK_ENCODINGS = ("cp1252", "latin-1")
_SANE_DETECTED = {"cp1252", "latin_1", "iso8859_15", "utf_16", "cp1250", "mac_roman"}


@dataclass
class FileStats:
    """What happened to one file in the last read; also mirrored into the state."""

    rows: int = 0
    invalid_rows: int = 0
    invalid_samples: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    error: str | None = None

    def skip(self, where: str) -> None:
        self.invalid_rows += 1
        if len(self.invalid_samples) < _MAX_INVALID_SAMPLES:
            self.invalid_samples.append(where[:200])


def dedupe(names: list[str]) -> list[str]:
    """Unique, non-empty column names: ``a, a`` -> ``a, a_2``; ``""`` -> ``column_3``."""
    seen: set[str] = set()
    out: list[str] = []
    for i, raw in enumerate(names):
        base = raw.strip() or f"column_{i + 1}"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        out.append(name)
    return out


def detect_encoding(sample: bytes) -> str:
    """``utf-8`` when the sample decodes; else charset-normalizer's guess or cp1252."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional: only used when already installed
        return _FALLBACK_ENCODINGS[0]
    best = from_bytes(sample[:65536]).best()
    guess = codecs.lookup(best.encoding).name.replace("-", "_") if best else ""
    return guess if guess in _SANE_DETECTED else _FALLBACK_ENCODINGS[0]


def _encodings(first: str) -> list[str]:
    return list(dict.fromkeys([first, *_FALLBACK_ENCODINGS]))


def _is_decode_error(exc: Exception) -> bool:
    return isinstance(exc, UnicodeDecodeError) or "UTF8" in str(exc) or "UTF-8" in str(exc)


Opener = Callable[[], IO[bytes]]


def open_file(fs: fsspec.AbstractFileSystem, path: str) -> Opener:
    compression = "infer" if path.endswith(COMPRESSIONS) else None
    return lambda: fsspec.core.OpenFile(fs, path, mode="rb", compression=compression).open()


# -- CSV -------------------------------------------------------------------------------


def csv_header(opener: Opener, delimiter: str, encoding: str) -> list[str]:
    """The deduplicated header, parsed by Arrow (handles BOM, quotes, encodings) from a
    sample, so no read-ahead of the file itself; an empty file has no columns."""
    for size in (1 << 20, 32 << 20):
        with opener() as f:
            sample = f.read(size)
        if not sample.strip():
            return []
        try:
            reader = pcsv.open_csv(
                io.BytesIO(sample),
                read_options=pcsv.ReadOptions(
                    use_threads=False, block_size=size, encoding=encoding
                ),
                parse_options=pcsv.ParseOptions(
                    delimiter=delimiter,
                    newlines_in_values=True,
                    invalid_row_handler=lambda r: "skip",
                ),
            )
            return dedupe(reader.schema.names)
        except pa.ArrowInvalid as exc:
            if "Empty CSV" in str(exc):
                return []
            if len(sample) < size or size > 1 << 20:
                raise
    raise AssertionError("unreachable")


def read_csv(
    opener: Opener, stats: FileStats, *, delimiter: str, block_size: int, skip: int
) -> Iterator[pa.RecordBatch]:
    """All columns as strings. On a decode error mid-file, restart with the next encoding
    after the rows already yielded (the resume path), so no row is duplicated."""
    with opener() as f:
        stats.encoding = detect_encoding(f.read(_SAMPLE_BYTES))
    encodings = _encodings(stats.encoding)
    done = 0
    while True:
        stats.invalid_rows, stats.invalid_samples = 0, []
        try:
            for batch in _read_csv_once(opener, stats, delimiter, block_size, skip + done):
                done += batch.num_rows
                yield batch
            return
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            nxt = encodings.index(stats.encoding) + 1
            if not _is_decode_error(exc) or nxt >= len(encodings):
                raise
            stats.encoding = encodings[nxt]


def _read_csv_once(
    opener: Opener, stats: FileStats, delimiter: str, block_size: int, skip: int
) -> Iterator[pa.RecordBatch]:
    names = csv_header(opener, delimiter, stats.encoding)
    if not names:
        return

    def on_invalid(row: Any) -> str:
        stats.skip(
            f"row {row.number}: expected {row.expected_columns} columns, got {row.actual_columns}"
        )
        return "skip"

    with opener() as f:
        reader = pcsv.open_csv(
            f,
            read_options=pcsv.ReadOptions(
                use_threads=False,
                block_size=block_size,
                column_names=names,
                skip_rows=1,
                encoding=stats.encoding,
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
        yield from _skip_rows(reader, skip)


def _skip_rows(batches: Any, skip: int) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        if skip >= batch.num_rows:
            skip -= batch.num_rows
            continue
        if skip:
            batch, skip = batch.slice(skip), 0
        yield batch


# -- JSON lines ------------------------------------------------------------------------


def read_jsonl(
    opener: Opener, stats: FileStats, *, block_size: int, skip: int
) -> Iterator[pa.RecordBatch]:
    """Lines are grouped into ~``block_size`` chunks parsed by Arrow; a chunk that fails
    is re-parsed line by line so only the malformed lines are skipped (and counted)."""

    def chunks() -> Iterator[pa.RecordBatch]:
        with opener() as f:
            lines: list[bytes] = []
            size = 0
            for number, raw in enumerate(f, start=1):
                line = raw.lstrip(codecs.BOM_UTF8) if number == 1 else raw
                if not line.strip():
                    continue
                lines.append(_to_utf8(line, stats))
                size += len(line)
                if size >= block_size:
                    yield from _parse_json_chunk(lines, stats)
                    lines, size = [], 0
            if lines:
                yield from _parse_json_chunk(lines, stats)

    yield from _skip_rows(chunks(), skip)


def _to_utf8(line: bytes, stats: FileStats) -> bytes:
    try:
        line.decode("utf-8")
        return line
    except UnicodeDecodeError:
        stats.encoding = "cp1252+latin-1"
        try:
            return line.decode("cp1252").encode()
        except UnicodeDecodeError:
            return line.decode("latin-1").encode()


def _parse_json_chunk(lines: list[bytes], stats: FileStats) -> Iterator[pa.RecordBatch]:
    data = b"".join(ln if ln.endswith(b"\n") else ln + b"\n" for ln in lines)
    try:
        table = pjson.read_json(io.BytesIO(data), read_options=pjson.ReadOptions(use_threads=False))
    except pa.ArrowInvalid:
        rows: list[dict[str, Any]] = []
        for ln in lines:
            try:
                value = json.loads(ln)
            except ValueError:
                stats.skip(f"malformed JSON: {ln[:80]!r}")
                continue
            if not isinstance(value, dict):
                stats.skip(f"not an object: {ln[:80]!r}")
                continue
            rows.append(value)
        if not rows:
            return
        table = pa.Table.from_pylist(rows)  # mixed types raise: the file is unreadable
    yield from table.combine_chunks().to_batches()


# -- Parquet ---------------------------------------------------------------------------


def read_parquet(opener: Opener, *, batch_size: int, skip: int) -> Iterator[pa.RecordBatch]:
    """Row groups wholly before ``skip`` are not read at all."""
    with opener() as f:
        pf = pq.ParquetFile(f)
        groups: list[int] = []
        for i in range(pf.num_row_groups):
            n = pf.metadata.row_group(i).num_rows
            if skip >= n and not groups:
                skip -= n
                continue
            groups.append(i)
        if groups:
            yield from _skip_rows(pf.iter_batches(batch_size=batch_size, row_groups=groups), skip)


def arrow_schema(opener: Opener, fmt: Format, block_size: int) -> pa.Schema:
    """Schema of a typed file without reading it whole (first chunk for JSON lines)."""
    if fmt == "parquet":
        with opener() as f:
            return pq.ParquetFile(f).schema_arrow
    stats = FileStats()
    for batch in read_jsonl(opener, stats, block_size=block_size, skip=0):
        return batch.schema
    return pa.schema([])


# -- types -----------------------------------------------------------------------------


def flatten_fields(schema: pa.Schema | pa.StructType, prefix: str = "") -> list[FieldSpec]:
    """Arrow fields as FieldSpecs; structs become dotted paths (``address.city``)."""
    out: list[FieldSpec] = []
    for f in schema:
        name = f"{prefix}{f.name}"
        if pa.types.is_struct(f.type):
            out.extend(flatten_fields(f.type, f"{name}."))
        elif pa.types.is_null(f.type):
            out.append(FieldSpec(name, FieldType.STRING, True, source_type="null"))
        else:
            out.append(
                FieldSpec(name, FieldType.from_arrow(f.type), f.nullable, source_type=str(f.type))
            )
    return out
