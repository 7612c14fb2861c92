import json
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from autonomos.aam.normalize import (
    QUARANTINE_SCHEMA,
    infer_schema,
    normalize_batch,
    normalize_name,
    normalize_names,
)
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AccountId", "account_id"),
        ("HTTPStatus", "http_status"),
        ("accountID", "account_id"),
        ("billing.Address.City", "billing.address.city"),
        ("first name", "first_name"),
        ("a--b__c", "a_b_c"),
        ("  padded  ", "padded"),
        ("2ndPlace", "_2nd_place"),
        ("", "_"),
        ("$$$", "_"),
        ("already_snake", "already_snake"),
        ("getHTTPResponseCode", "get_http_response_code"),
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_normalize_names_deduplicates_deterministically() -> None:
    assert normalize_names(["A", "a", "a_2", "A "]) == ["a", "a_2", "a_2_2", "a_3"]


def _strings(**cols: list[str | None]) -> pa.RecordBatch:
    return pa.record_batch({k: pa.array(v, pa.string()) for k, v in cols.items()})


def test_infer_schema_types() -> None:
    batch = _strings(
        Id=["1", "2", None],
        Amount=["1.5", "2", ""],
        Active=["yes", "no", "TRUE"],
        Flag01=["1", "0", "1"],
        Day=["2024-01-01", "2024-02-29", None],
        At=["2024-01-01T10:00:00Z", "2024-01-01 10:00:00", "2024-01-01T10:00:00+02:00"],
        Name=["a", "b", "c"],
    )
    schema = infer_schema(batch, "s", primary_key=["Id"], cursor_field="At")
    types = {f.name: f.type for f in schema.fields}
    assert types == {
        "id": FieldType.INTEGER,
        "amount": FieldType.NUMBER,
        "active": FieldType.BOOLEAN,
        "flag01": FieldType.INTEGER,  # 0/1 alone stays an integer
        "day": FieldType.DATE,
        "at": FieldType.TIMESTAMP,
        "name": FieldType.STRING,
    }
    assert schema.primary_key == ("id",) and schema.cursor_field == "at"


def test_infer_schema_flattens_structs() -> None:
    batch = pa.record_batch({"billing": pa.array([{"City": "Oslo", "Zip": 1}])})
    schema = infer_schema(batch, "s")
    assert [(f.name, f.type) for f in schema.fields] == [
        ("billing.city", FieldType.STRING),
        ("billing.zip", FieldType.INTEGER),
    ]


SCHEMA = StreamSchema(
    "s",
    (
        FieldSpec("id", FieldType.INTEGER, nullable=False),
        FieldSpec("amount", FieldType.DECIMAL),
        FieldSpec("at", FieldType.TIMESTAMP),
        FieldSpec("active", FieldType.BOOLEAN),
        FieldSpec("name", FieldType.STRING),
        FieldSpec("missing", FieldType.DATE),
    ),
)


def test_normalize_batch_clean() -> None:
    batch = _strings(
        ID=[" 1", "2"],
        Amount=["1.25", ""],
        At=["2024-01-01T12:00:00+02:00", "2024-01-01 10:00:00"],
        Active=["Yes", "false"],
        Name=["  x ", ""],
        Extra=["dropped", "dropped"],
    )
    res = normalize_batch(batch, SCHEMA)
    assert res.quarantined.num_rows == 0
    assert res.quarantined.schema == QUARANTINE_SCHEMA
    assert res.batch.schema.names == ["id", "amount", "at", "active", "name", "missing"]
    rows = res.batch.to_pylist()
    assert rows[0]["id"] == 1 and rows[1]["amount"] is None
    assert rows[0]["at"] == datetime(2024, 1, 1, 10, tzinfo=UTC)  # offset converted to UTC
    assert rows[1]["at"] == datetime(2024, 1, 1, 10, tzinfo=UTC)  # naive taken as UTC
    assert [r["active"] for r in rows] == [True, False]
    assert [r["name"] for r in rows] == ["x", ""]  # strings trimmed, empty kept
    assert [r["missing"] for r in rows] == [None, None]
    assert res.batch.schema.field("at").type == pa.timestamp("us", tz="UTC")


def test_bad_values_are_quarantined_with_reason() -> None:
    batch = _strings(
        id=["1", "x2", "3", "4", None],
        amount=["1", "2", "3", "4", "5"],
        at=["2024-01-01", "2024-01-01", "2024-13-45T00:00:00", "2024-01-01", "2024-01-01"],
        active=["true", "true", "true", "maybe", "true"],
        name=["a", "b", "c", "d", "e"],
    )
    res = normalize_batch(batch, SCHEMA)
    assert res.batch.column("id").to_pylist() == [1]
    q = res.quarantined.to_pylist()
    by_row = {(r["row_index"], r["field"]): r for r in q}
    assert set(by_row) == {(1, "id"), (2, "at"), (3, "active"), (4, "id")}
    assert "cannot convert to integer" in by_row[(1, "id")]["reason"]
    assert "'x2'" in by_row[(1, "id")]["reason"]
    assert "non-nullable" in by_row[(4, "id")]["reason"]
    assert json.loads(by_row[(2, "at")]["record"])["name"] == "c"


def test_typed_source_columns() -> None:
    batch = pa.record_batch(
        {
            "id": pa.array([1, 2], pa.int32()),
            "at": pa.array([0, 1_000_000_000], pa.timestamp("ns", tz="Europe/Oslo")),
            "missing": pa.array([date(2024, 1, 1), None]),
        }
    )
    res = normalize_batch(batch, SCHEMA)
    assert res.batch.column("id").type == pa.int64()
    assert res.batch.column("at").type == pa.timestamp("us", tz="UTC")
    assert res.batch.column("at").to_pylist()[1] == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)


def _ts() -> StreamSchema:
    return StreamSchema("s", (FieldSpec("at", FieldType.TIMESTAMP),))


@pytest.mark.parametrize(
    "values",
    [
        # the first value picks which parse is tried first; every order gives UTC
        ["2024-01-01 10:00:00", "2024-01-01T12:00:00"],
        ["2024-01-01T10:00:00Z", "2024-01-01 12:00:00+02:00"],
        ["2024-01-01 10:00:00", "2024-01-01T12:00:00+02:00"],  # naive first, then mixed
        ["2024-01-01T10:00:00Z", "2024-01-01 12:00:00"],  # aware first, then mixed
        [None, "", "2024-01-01 10:00:00", "2024-01-01T12:00:00+02:00"],
    ],
)
def test_timestamps_parse_to_utc_whatever_the_first_value(values: list[str | None]) -> None:
    expected = {
        "2024-01-01 10:00:00": datetime(2024, 1, 1, 10, tzinfo=UTC),
        "2024-01-01T10:00:00Z": datetime(2024, 1, 1, 10, tzinfo=UTC),
        "2024-01-01T12:00:00": datetime(2024, 1, 1, 12, tzinfo=UTC),
        "2024-01-01 12:00:00": datetime(2024, 1, 1, 12, tzinfo=UTC),
        "2024-01-01 12:00:00+02:00": datetime(2024, 1, 1, 10, tzinfo=UTC),
        "2024-01-01T12:00:00+02:00": datetime(2024, 1, 1, 10, tzinfo=UTC),
    }
    result = normalize_batch(pa.table({"at": pa.array(values, pa.string())}), _ts())
    assert result.quarantined.num_rows == 0
    assert result.batch.column("at").to_pylist() == [expected.get(v or "") for v in values]


def test_inference_probe_never_decides_alone() -> None:
    """The first values are only a quick rejection test: a type must fit every value."""
    n = 1_000
    late_text = [str(i) for i in range(n)] + ["n/a"]
    late_float = [str(i) for i in range(n)] + ["1.5"]
    late_naive = ["2024-01-01T00:00:00Z"] * n + ["2024-01-02 00:00:00"]
    late_bad_ts = ["2024-01-01T00:00:00Z"] * n + ["soon"]
    schema = infer_schema(
        pa.table(
            {
                "late_text": late_text,
                "late_float": late_float,
                "late_naive": late_naive,
                "late_bad_ts": late_bad_ts,
            }
        ),
        "s",
    )
    assert [f.type for f in schema.fields] == [
        FieldType.STRING,
        FieldType.NUMBER,
        FieldType.TIMESTAMP,
        FieldType.STRING,
    ]
