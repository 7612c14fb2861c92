"""PostgresConnector against the real server (a fresh database for this module)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from autonomos.connectors import (
    ConnectorError,
    FailureType,
    FieldType,
    RecordBatchMessage,
    SnapshotMessage,
    StateMessage,
)
from autonomos.connectors.postgres import PostgresConnector, classify
from tests.conftest import PG_HOST, PG_PORT, _require, free_port

pytestmark = pytest.mark.postgres

EVIL = 'x"; DROP TABLE t; --'
Q = EVIL.replace('"', '""')  # as a quoted SQL identifier, for the fixture's own DDL

SETUP = [
    """CREATE TABLE accounts (
        id bigint PRIMARY KEY, name text NOT NULL, balance numeric(12, 2), score float8,
        active boolean, opened date, updated_at timestamptz NOT NULL, meta jsonb,
        blob bytea, ref uuid, tags text[], small int2)""",
    "COMMENT ON COLUMN accounts.name IS 'Legal name of the account'",
    "COMMENT ON TABLE accounts IS 'Customer accounts'",
    """INSERT INTO accounts
       SELECT g, 'acct ' || g, g * 1.25, g / 3.0, g % 2 = 0, DATE '2024-01-01' + g,
              TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 minute',
              jsonb_build_object('n', g), '\\x0102'::bytea, gen_random_uuid(),
              ARRAY['a', 'b'], 7
       FROM generate_series(1, 250) g""",
    'CREATE SCHEMA "we""ird"',
    f'CREATE TABLE "we""ird"."{Q}" ("{Q}" int PRIMARY KEY, "Select" text)',
    f'INSERT INTO "we""ird"."{Q}" SELECT g, \'v\' || g FROM generate_series(1, 25) g',
    "CREATE TABLE nopk (v text)",
    "INSERT INTO nopk SELECT 'r' || g FROM generate_series(1, 23) g",
]


def _admin(sql: list[str], dbname: str = "postgres") -> None:
    with psycopg.connect(
        host=PG_HOST,
        port=PG_PORT,
        user="postgres",
        dbname=dbname,
        autocommit=True,
        connect_timeout=5,
    ) as conn:
        for stmt in sql:
            conn.execute(stmt)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    try:
        _admin(["SELECT 1"])
        up = True
    except psycopg.Error:
        up = False
    _require(up, f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}")
    name = f"autonomos_conn_{uuid.uuid4().hex[:8]}"
    _admin([f"CREATE DATABASE {name}"])
    try:
        _admin(SETUP, name)
        yield name
    finally:
        _admin([f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])


def make(database: str, **config: Any) -> PostgresConnector:
    url = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{database}"
    return PostgresConnector({"url": url, "schemas": ["public", 'we"ird'], **config})


def read_all(conn: PostgresConnector, stream: str, state: Any = None) -> tuple[list[dict], dict]:
    rows: list[dict] = []
    last: dict = {}
    for item in conn.read(stream, state):
        if isinstance(item, RecordBatchMessage):
            rows.extend(item.batch.to_pylist())
        elif isinstance(item, StateMessage):
            last = json.loads(json.dumps(item.state))  # as the caller persists it
    return rows, last


def snapshots(conn: PostgresConnector, stream: str, state: Any = None) -> tuple[set, list, dict]:
    """(part, generation) of the batches, the snapshots yielded, the final state."""
    tags, snaps, last = set(), [], {}
    for item in conn.read(stream, state):
        if isinstance(item, RecordBatchMessage):
            tags.add((item.part, item.generation))
        elif isinstance(item, StateMessage):
            last = json.loads(json.dumps(item.state))
        else:
            assert isinstance(item, SnapshotMessage)
            snaps.append(dict(item.parts))
    return tags, snaps, last


def test_discover_types_keys_comments_and_cursor(database: str) -> None:
    conn = make(database)
    conn.check()
    schemas = {s.name: s for s in conn.discover()}
    acc = schemas["accounts"]
    types = {f.name: f.type for f in acc.fields}
    assert types == {
        "id": FieldType.INTEGER,
        "name": FieldType.STRING,
        "balance": FieldType.DECIMAL,
        "score": FieldType.NUMBER,
        "active": FieldType.BOOLEAN,
        "opened": FieldType.DATE,
        "updated_at": FieldType.TIMESTAMP,
        "meta": FieldType.JSON,
        "blob": FieldType.BINARY,
        "ref": FieldType.STRING,
        "tags": FieldType.JSON,
        "small": FieldType.INTEGER,
    }
    assert acc.primary_key == ("id",)
    assert acc.cursor_field == "updated_at"
    assert acc.description == "Customer accounts"
    name = acc.field("name")
    assert name is not None and name.description == "Legal name of the account"
    assert not name.nullable and name.source_type == "text"
    assert acc.field("balance").source_type == "numeric(12,2)"  # type: ignore[union-attr]
    evil = schemas[f'we"ird.{EVIL}']
    assert evil.primary_key == (EVIL,) and evil.cursor_field is None
    conn.close()


def test_full_read_converts_values(database: str) -> None:
    conn = make(database, batch_size=100)
    batches = [i.batch for i in conn.read("accounts", None) if isinstance(i, RecordBatchMessage)]
    assert [b.num_rows for b in batches] == [100, 100, 50]
    row = batches[0].to_pylist()[0]
    assert row["id"] == 1 and row["balance"] == Decimal("1.25") and row["active"] is False
    assert row["updated_at"].isoformat() == "2024-01-01T00:01:00+00:00"
    assert json.loads(row["meta"]) == {"n": 1} and json.loads(row["tags"]) == ["a", "b"]
    assert row["blob"] == b"\x01\x02" and len(row["ref"]) == 36
    assert str(batches[0].schema.field("updated_at").type) == "timestamp[us, tz=UTC]"


def test_incremental_read_picks_up_only_updated_rows(database: str) -> None:
    conn = make(database, batch_size=100)
    rows, state = read_all(conn, "accounts")
    assert len(rows) == 250
    assert state["cursor"].startswith("2024-01-01T04:10") and state["pk"] == [250]
    assert read_all(conn, "accounts", state)[0] == []
    _admin(
        ["UPDATE accounts SET updated_at = now(), name = 'changed' WHERE id IN (3, 7)"], database
    )
    rows, state2 = read_all(conn, "accounts", state)
    assert sorted(r["id"] for r in rows) == [3, 7]
    assert all(r["name"] == "changed" for r in rows)
    assert read_all(conn, "accounts", state2)[0] == []


def test_a_full_refresh_is_a_complete_snapshot(database: str) -> None:
    conn = make(database, batch_size=10)
    tags, snaps, final = snapshots(conn, "nopk")
    ((part, generation),) = tags
    assert part == "" and generation and snaps == [{"": generation}]
    assert final["done"] and final["generation"] == generation
    tags, snaps, _ = snapshots(conn, "nopk", final)  # the next full read: a new generation
    assert snaps and snaps[0][""] != generation and tags == {("", snaps[0][""])}

    mid = None  # a read resumed after a crash stays in its generation
    for item in conn.read("nopk", None):
        if isinstance(item, StateMessage):
            mid = json.loads(json.dumps(item.state))
            break
    assert mid is not None
    tags, snaps, _ = snapshots(make(database, batch_size=10), "nopk", mid)
    assert snaps == [{"": mid["generation"]}] and tags == {("", mid["generation"])}

    legacy = {k: v for k, v in mid.items() if k != "generation"}  # saved before generations
    assert snapshots(make(database, batch_size=10), "nopk", legacy)[1] == []
    assert snapshots(conn, "accounts")[1] == []  # incremental (a cursor): never a snapshot
    conn.close()


def test_keyset_resume_from_state(database: str) -> None:
    conn = make(database, batch_size=10)
    all_ids, mid = [], None
    for item in conn.read("nopk", None):  # no primary key: pages by ctid
        if isinstance(item, RecordBatchMessage):
            all_ids.extend(item.batch.column("v").to_pylist())
        elif len(all_ids) == 10 and mid is None:
            mid = json.loads(json.dumps(item.state))
    assert len(all_ids) == 23 and mid is not None and "ctid" in mid
    rest, final = read_all(make(database, batch_size=10), "nopk", mid)
    assert rest and [r["v"] for r in rest] == all_ids[10:]
    assert final["done"] is True
    again, _ = read_all(conn, "nopk", final)  # a finished full refresh starts over
    assert len(again) == 23

    pk_conn = make(database, batch_size=7, cursor_field={"accounts": "id"})
    first = []
    for item in pk_conn.read("accounts", None):
        if not isinstance(item, RecordBatchMessage):
            state = json.loads(json.dumps(item.state))
            break
    rest, _ = read_all(pk_conn, "accounts", state)
    assert [r["id"] for r in rest][:3] == [8, 9, 10] and len(rest) == 250 - 7
    assert first == []


def test_injection_shaped_identifiers_just_work(database: str) -> None:
    conn = make(database, batch_size=10, tables=[f'we"ird.{EVIL}'])
    (schema,) = conn.discover()
    rows, _ = read_all(conn, schema.name)
    assert len(rows) == 25 and rows[0] == {EVIL: 1, "Select": "v1"}
    half = {"pk": [12], "done": False}
    rest, _ = read_all(conn, schema.name, half)
    assert [r[EVIL] for r in rest] == list(range(13, 26))
    _admin(["SELECT 1 FROM accounts LIMIT 1"], database)  # nothing was dropped


def test_wrong_credentials_are_configuration_errors_without_the_password(database: str) -> None:
    secret = "hunter2-s3cret-pw"
    conn = PostgresConnector(
        {"url": f"postgresql://nobody_here:{secret}@{PG_HOST}:{PG_PORT}/{database}"}
    )
    with pytest.raises(ConnectorError) as err:
        conn.check()
    assert err.value.failure is FailureType.CONFIGURATION
    assert secret not in str(err.value) and secret not in repr(err.value.args)
    with pytest.raises(ConnectorError) as err:
        PostgresConnector(
            {"url": f"postgresql://postgres:{secret}@{PG_HOST}:{PG_PORT}/no_such_db_x"}
        ).discover()
    assert err.value.failure is FailureType.CONFIGURATION and secret not in str(err.value)
    # The test server trusts 127.0.0.1, so a real password failure is classified offline.
    auth = psycopg.OperationalError('FATAL:  password authentication failed for user "u"')
    assert classify(auth) is FailureType.CONFIGURATION


def test_unreachable_port_is_transient(database: str) -> None:
    secret = "another-s3cret"
    conn = PostgresConnector({"url": f"postgresql://u:{secret}@127.0.0.1:{free_port()}/x"})
    t0 = time.monotonic()
    with pytest.raises(ConnectorError) as err:
        conn.check()
    assert err.value.failure is FailureType.TRANSIENT and err.value.retryable
    assert secret not in str(err.value) and time.monotonic() - t0 < 11


def test_bad_url_and_unknown_stream(database: str) -> None:
    with pytest.raises(ConnectorError) as err:
        PostgresConnector({"url": "mysql://a:b@h/db"})
    assert err.value.failure is FailureType.CONFIGURATION
    with pytest.raises(ConnectorError) as err:
        list(make(database).read("nope", None))
    assert err.value.failure is FailureType.CONFIGURATION
