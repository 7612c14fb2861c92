"""SalesforceConnector against a local HTTP server speaking Salesforce's REST shapes."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from autonomos.connectors import ConnectorError, FailureType, RecordBatchMessage, StateMessage
from autonomos.connectors.salesforce import RetryPolicy, SalesforceConnector
from autonomos.connectors.schema import FieldType
from tests.integration.connectors import fake_salesforce as sf
from tests.integration.connectors.fake_salesforce import FakeSalesforce, FakeSalesforceServer

SECRETS = (sf.CLIENT_SECRET, sf.PASSWORD, sf.SECURITY_TOKEN)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeSalesforceServer]:
    srv = FakeSalesforceServer()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def fake(server: FakeSalesforceServer) -> FakeSalesforce:
    server.fake.reset()
    return server.fake


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def connector(fake: FakeSalesforce, sleeps: Sleeps | None = None, **overrides: Any):
    config: dict[str, Any] = {
        "login_url": fake.base_url,
        "auth": "client_credentials",
        "client_id": sf.CLIENT_ID,
        "client_secret": sf.CLIENT_SECRET,
        "objects": ["Account"],
        "batch_size": 200,
    }
    config.update(overrides)
    return SalesforceConnector(
        config,
        sleep=sleeps if sleeps is not None else Sleeps(),
        retry=RetryPolicy(max_attempts=4, base_delay_s=0.5, max_delay_s=30),
        jitter=lambda: 0.5,
    )


def account(i: int, stamp: str) -> dict[str, Any]:
    return {
        "Id": f"001RO00000{i:08d}",
        "IsDeleted": False,
        "Name": f"Acme {i}",
        "Type": "Customer - Direct",
        "BillingAddress": {"city": "Paris", "country": "France", "street": f"{i} Rue Lafayette"},
        "Phone": "(555) 010-0000",
        "Website": "https://acme.example",
        "AnnualRevenue": 1250000.5,
        "NumberOfEmployees": i,
        "Rating__c": 12.5,
        "Score__c": 0.75,
        "OwnerId": "005RO000000fake",
        "LastActivityDate": "2024-03-01",
        "SystemModstamp": stamp,
    }


def stamp(minute: int) -> str:
    return f"2024-01-15T10:{minute:02d}:00.000+0000"


def drain(source: SalesforceConnector, state: dict[str, Any] | None = None):
    batches: list[pa.RecordBatch] = []
    states: list[dict[str, Any]] = []
    for item in source.read("Account", state):
        if isinstance(item, RecordBatchMessage):
            batches.append(item.batch)
        else:
            assert isinstance(item, StateMessage)
            states.append(item.state)
    rows = [row for b in batches for row in b.to_pylist()]
    return rows, batches, states


def test_client_credentials_flow_and_describe_maps_types(fake: FakeSalesforce) -> None:
    source = connector(fake)
    source.check()
    [schema] = source.discover()

    assert fake.token_requests[0]["grant_type"] == "client_credentials"
    assert schema.primary_key == ("Id",)
    assert schema.cursor_field == "SystemModstamp"
    types = {f.name: f.type for f in schema.fields}
    assert types == {
        "Id": FieldType.STRING,
        "IsDeleted": FieldType.BOOLEAN,
        "Name": FieldType.STRING,
        "Type": FieldType.STRING,
        "BillingAddress": FieldType.JSON,
        "Phone": FieldType.STRING,
        "Website": FieldType.STRING,
        "AnnualRevenue": FieldType.DECIMAL,
        "NumberOfEmployees": FieldType.INTEGER,
        "Rating__c": FieldType.NUMBER,
        "Score__c": FieldType.NUMBER,
        "OwnerId": FieldType.STRING,
        "LastActivityDate": FieldType.DATE,
        "SystemModstamp": FieldType.TIMESTAMP,
    }  # Legacy__c is deprecatedAndHidden
    score = schema.field("Score__c")
    assert score is not None and score.description == "Score - Fit score 0-1"
    assert score.source_type == "double"
    id_field = schema.field("Id")
    assert id_field is not None and not id_field.nullable


def test_password_flow_sends_password_plus_security_token(fake: FakeSalesforce) -> None:
    source = connector(
        fake,
        auth="password",
        username=sf.USERNAME,
        password=sf.PASSWORD,
        security_token=sf.SECURITY_TOKEN,
    )
    source.check()
    request = fake.token_requests[0]
    assert request["grant_type"] == "password"
    assert request["password"] == sf.PASSWORD + sf.SECURITY_TOKEN


def test_multi_page_read_yields_a_state_after_every_page(fake: FakeSalesforce) -> None:
    fake.objects["Account"] = [account(i, stamp(i % 60)) for i in range(450)]
    rows, batches, states = drain(connector(fake))

    assert [b.num_rows for b in batches] == [200, 200, 50]
    assert len(states) == 3
    assert len({r["Id"] for r in rows}) == 450
    first = rows[0]
    assert "attributes" not in first
    assert first["SystemModstamp"] == dt.datetime(2024, 1, 15, 10, 0, tzinfo=dt.UTC)
    assert first["AnnualRevenue"] == Decimal("1250000.5")
    assert first["LastActivityDate"] == dt.date(2024, 3, 1)
    assert '"city": "Paris"' in first["BillingAddress"]
    assert batches[0].schema.field("BillingAddress").type == pa.string()
    assert states[-1] == {"cursor": "2024-01-15T10:59:00Z", "last_id": rows[-1]["Id"]}


def test_resume_from_every_state_reads_exactly_the_rest(fake: FakeSalesforce) -> None:
    # 450 rows over 60 modstamps: pages end in the middle of a run of equal stamps.
    fake.objects["Account"] = [account(i, stamp(i % 60)) for i in range(450)]
    all_rows, _, states = drain(connector(fake))
    for n, state in enumerate(states[:-1], start=1):
        rest, _, _ = drain(connector(fake), state)
        assert [r["Id"] for r in rest] == [r["Id"] for r in all_rows[200 * n :]]


def test_incremental_reads_only_changes_since_the_cursor_with_ties(
    fake: FakeSalesforce,
) -> None:
    fake.objects["Account"] = [account(i, stamp(1)) for i in range(3)]
    _, _, states = drain(connector(fake))
    assert states[-1] == {"cursor": "2024-01-15T10:01:00Z", "last_id": "001RO0000000000002"}

    # A new record at the very same stamp (higher Id), one later, one untouched.
    fake.objects["Account"] += [account(3, stamp(1)), account(4, stamp(5))]
    fake.objects["Account"][0]["SystemModstamp"] = stamp(6)  # record 0 modified
    rows, _, states = drain(connector(fake), states[-1])

    assert [r["Name"] for r in rows] == ["Acme 3", "Acme 4", "Acme 0"]
    assert states[-1]["cursor"] == "2024-01-15T10:06:00Z"
    assert "SystemModstamp > 2024-01-15T10:01:00Z" in fake.queries[-1]

    nothing, _, no_states = drain(connector(fake), states[-1])
    assert nothing == [] and no_states == []


def test_rate_limit_403_and_429_back_off_then_succeed(fake: FakeSalesforce) -> None:
    fake.objects["Account"] = [account(1, stamp(1))]
    fake.rate_limit()
    fake.too_many_requests(retry_after="7")
    fake.server_error()
    sleeps = Sleeps()
    rows, _, _ = drain(connector(fake, sleeps))

    assert len(rows) == 1
    # Same call, three attempts: 403 REQUEST_LIMIT_EXCEEDED backs off 0.5 * 2**0 * 0.75,
    # 429 honours Retry-After, 500 backs off 0.5 * 2**2 * 0.75.
    assert sleeps == [0.375, 7.0, 1.5]


def test_retries_are_bounded_and_transient(fake: FakeSalesforce) -> None:
    for _ in range(10):
        fake.server_error()
    sleeps = Sleeps()
    with pytest.raises(ConnectorError) as raised:
        connector(fake, sleeps).discover()
    assert raised.value.failure is FailureType.TRANSIENT
    assert raised.value.retryable
    assert len(sleeps) == 3  # four attempts


def test_long_retry_after_is_handed_to_the_caller(fake: FakeSalesforce) -> None:
    fake.too_many_requests(retry_after="3600")
    with pytest.raises(ConnectorError) as raised:
        connector(fake).discover()
    assert raised.value.failure is FailureType.TRANSIENT
    assert raised.value.retry_after_s == 3600


def test_expired_session_refreshes_the_token_once(fake: FakeSalesforce) -> None:
    fake.objects["Account"] = [account(i, stamp(i)) for i in range(5)]
    source = connector(fake)
    source.discover()
    fake.expire_tokens()
    rows, _, _ = drain(source)
    assert len(rows) == 5
    assert len(fake.token_requests) == 2


def test_unknown_object_is_a_configuration_error(fake: FakeSalesforce) -> None:
    with pytest.raises(ConnectorError) as raised:
        connector(fake, objects=["Account", "Nope__c"]).check()
    assert raised.value.failure is FailureType.CONFIGURATION
    assert "NOT_FOUND" in str(raised.value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_secret": "wrong-but-secret-value"},
        {
            "auth": "password",
            "username": sf.USERNAME,
            "password": "Wrong-Password-secret",
            "security_token": sf.SECURITY_TOKEN,
        },
    ],
)
def test_wrong_credentials_are_configuration_errors_without_secrets(
    fake: FakeSalesforce, overrides: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    source = connector(fake, **overrides)
    with pytest.raises(ConnectorError) as raised:
        source.check()
    assert raised.value.failure is FailureType.CONFIGURATION
    message = str(raised.value)
    assert "invalid_" in message
    for secret in (*SECRETS, *overrides.values()):
        if secret not in (sf.USERNAME, "password"):
            assert secret not in message
            assert secret not in caplog.text


def test_missing_settings_fail_fast() -> None:
    with pytest.raises(ConnectorError) as raised:
        SalesforceConnector({"auth": "password", "client_id": "x", "client_secret": "y"})
    assert raised.value.failure is FailureType.CONFIGURATION
    assert "username" in str(raised.value)
