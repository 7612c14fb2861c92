"""MongoConnector against mongomock (no MongoDB server can be installed offline here).

mongomock runs the real pymongo API surface ($sample, $or keyset filters, compound sorts)
in memory and raises pymongo's own exception classes. Error classification is exercised
with pymongo's exceptions raised by a client factory.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import mongomock
import pyarrow as pa
import pytest
from bson import Decimal128, ObjectId
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

from autonomos.connectors import ConnectorError, FailureType, RecordBatchMessage, StateMessage
from autonomos.connectors.mongodb import MongoConnector
from autonomos.connectors.schema import FieldType

URI = "mongodb://reader:S3cret-Pa55word@db.internal:27017/shop?authSource=admin"
PASSWORD = "S3cret-Pa55word"
T0 = dt.datetime(2024, 5, 1, 12, 0, 0)


@pytest.fixture
def client() -> Any:
    return mongomock.MongoClient()


def connector(client: Any, **overrides: Any) -> MongoConnector:
    config: dict[str, Any] = {
        "uri": URI,
        "database": "shop",
        "cursor_field": {"orders": "updatedAt"},
        "batch_size": 4,
    }
    config.update(overrides)
    return MongoConnector(config, client_factory=lambda uri: client)


def order(i: int, minute: int) -> dict[str, Any]:
    return {
        "_id": ObjectId(f"{i:024x}"),
        "number": i,
        "total": Decimal128(f"{i}.25"),
        "customer": {"name": f"Ada {i}", "address": {"city": "Lyon"}},
        "tags": ["new", {"channel": "web"}],
        "score": i if i % 2 else i + 0.5,
        "ref": i if i % 3 else f"R{i}",
        "updatedAt": T0 + dt.timedelta(minutes=minute),
    }


def drain(source: MongoConnector, state: dict[str, Any] | None = None):
    batches: list[pa.RecordBatch] = []
    states: list[dict[str, Any]] = []
    for item in source.read("orders", state):
        if isinstance(item, RecordBatchMessage):
            batches.append(item.batch)
        else:
            assert isinstance(item, StateMessage)
            json.dumps(item.state)  # states are persisted as JSON
            states.append(item.state)
    return [row for b in batches for row in b.to_pylist()], batches, states


def test_discover_flattens_and_infers_types(client: Any) -> None:
    client.shop.orders.insert_many([order(i, i) for i in range(1, 7)])
    client.shop.events.insert_one({"kind": "x"})
    client.shop["system.views"].insert_one({"x": 1})

    schemas = {s.name: s for s in connector(client).discover()}

    assert set(schemas) == {"events", "orders"}
    orders = schemas["orders"]
    assert orders.primary_key == ("_id",)
    assert orders.cursor_field == "updatedAt"
    assert schemas["events"].cursor_field is None
    types = {f.name: f.type for f in orders.fields}
    assert types == {
        "_id": FieldType.STRING,
        "number": FieldType.INTEGER,
        "total": FieldType.DECIMAL,
        "customer.name": FieldType.STRING,
        "customer.address.city": FieldType.STRING,
        "tags": FieldType.JSON,
        "score": FieldType.NUMBER,  # int and double widen
        "ref": FieldType.STRING,  # int and string mix
        "updatedAt": FieldType.TIMESTAMP,
    }
    id_field, ref = orders.field("_id"), orders.field("ref")
    assert id_field is not None and id_field.source_type == "objectId" and not id_field.nullable
    assert ref is not None and set(str(ref.source_type).split("|")) == {"int", "string"}


def test_read_flattens_documents_into_batches_with_states(client: Any) -> None:
    client.shop.orders.insert_many([order(i, i) for i in range(1, 11)])
    rows, batches, states = drain(connector(client))

    assert [b.num_rows for b in batches] == [4, 4, 2]
    assert len(states) == 3
    first = rows[0]
    assert first["_id"] == f"{1:024x}"
    assert first["customer.address.city"] == "Lyon"
    assert json.loads(first["tags"]) == ["new", {"channel": "web"}]
    assert str(first["total"]) == "1.250000000"
    assert first["updatedAt"] == dt.datetime(2024, 5, 1, 12, 1, tzinfo=dt.UTC)
    assert [r["ref"] for r in rows[:3]] == ["1", "2", "R3"]
    assert batches[0].schema.field("updatedAt").type == pa.timestamp("us", tz="UTC")
    assert states[-1] == {
        "last_id": {"$oid": f"{10:024x}"},
        "cursor": {"$date": "2024-05-01T12:10:00Z"},
    }


def test_resume_from_every_state_with_ties_on_the_cursor(client: Any) -> None:
    # Ten documents over three timestamps: batches end inside runs of equal cursors.
    client.shop.orders.insert_many([order(i, i // 4) for i in range(10, 0, -1)])
    all_rows, _, states = drain(connector(client))
    assert [r["number"] for r in all_rows] == list(range(1, 11))
    for n, state in enumerate(states[:-1], start=1):
        rest, _, _ = drain(connector(client), state)
        assert [r["number"] for r in rest] == list(range(4 * n + 1, 11))


def test_incremental_reads_changes_since_the_cursor(client: Any) -> None:
    client.shop.orders.insert_many([order(i, 5) for i in range(1, 4)])
    _, _, states = drain(connector(client))

    client.shop.orders.insert_many([order(4, 5), order(5, 9)])  # a tie, and a later one
    client.shop.orders.update_one(
        {"number": 1}, {"$set": {"updatedAt": T0 + dt.timedelta(hours=1)}}
    )
    rows, _, states = drain(connector(client), states[-1])

    assert [r["number"] for r in rows] == [4, 5, 1]
    assert drain(connector(client), states[-1])[0] == []


def test_full_keyset_on_id_without_a_cursor_field(client: Any) -> None:
    client.shop.orders.insert_many([order(i, 0) for i in range(1, 7)])
    source = connector(client, cursor_field={})
    rows, _, states = drain(source)
    assert len(rows) == 6
    assert states[0] == {"last_id": {"$oid": f"{4:024x}"}}
    rest, _, _ = drain(connector(client, cursor_field={}), states[0])
    assert [r["number"] for r in rest] == [5, 6]


def test_fields_added_after_discover_are_kept(client: Any) -> None:
    client.shop.orders.insert_one(order(1, 1))
    source = connector(client)
    source.discover()
    client.shop.orders.insert_one({**order(5, 2), "coupon": {"code": "SPRING"}})
    rows, batches, _ = drain(source)
    assert batches[0].schema.field("coupon.code").type == pa.string()
    assert [r["coupon.code"] for r in rows] == [None, "SPRING"]


def test_value_that_does_not_fit_its_column_is_terminal(client: Any) -> None:
    client.shop.orders.insert_one(order(1, 1))
    source = connector(client)
    source.discover()
    client.shop.orders.insert_one({**order(5, 2), "number": "five"})
    with pytest.raises(ConnectorError) as raised:
        drain(source)
    assert raised.value.failure is FailureType.TERMINAL
    assert "orders.number" in str(raised.value)


def test_missing_collection_is_a_configuration_error(client: Any) -> None:
    client.shop.orders.insert_one(order(1, 1))
    with pytest.raises(ConnectorError) as raised:
        connector(client, collections=["orders", "invoices"]).check()
    assert raised.value.failure is FailureType.CONFIGURATION
    assert "invoices" in str(raised.value)


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (ServerSelectionTimeoutError(f"{URI}: timed out"), FailureType.TRANSIENT),
        (
            OperationFailure(f"Authentication failed for {PASSWORD}", code=18),
            FailureType.CONFIGURATION,
        ),
        (OperationFailure("not primary", code=10107), FailureType.TRANSIENT),
    ],
)
def test_errors_are_classified_and_redacted(
    error: Exception, failure: FailureType, caplog: pytest.LogCaptureFixture
) -> None:
    def factory(uri: str) -> Any:
        raise error

    source = MongoConnector({"uri": URI, "database": "shop"}, client_factory=factory)
    with pytest.raises(ConnectorError) as raised:
        source.check()
    assert raised.value.failure is failure
    assert PASSWORD not in str(raised.value) and URI not in str(raised.value)
    assert PASSWORD not in caplog.text


def test_without_pymongo_the_user_is_told_to_install_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pymongo", None)
    source = MongoConnector({"uri": URI, "database": "shop"})
    with pytest.raises(ConnectorError) as raised:
        source.check()
    assert raised.value.failure is FailureType.CONFIGURATION
    assert "autonomos[mongo]" in str(raised.value)
