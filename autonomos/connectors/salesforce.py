"""Salesforce connector over the REST API: OAuth2 token, sObject describe, SOQL query.

Each configured object is one stream. Reads are incremental on ``SystemModstamp`` with
keyset pagination on ``(SystemModstamp, Id)``, so records sharing a modstamp are neither
lost nor read twice across resumes. One query page (``batch_size`` records, 200-2000,
sent as ``Sforce-Query-Options``) is one Arrow batch followed by its state.

Restrictions: objects without ``SystemModstamp`` fall back to ``LastModifiedDate`` or
``CreatedDate``, and to a full keyset read on ``Id`` when they have none; deleted records
(``queryAll``) are not read; SOQL datetime literals are sent at second precision (the
values Salesforce stores), so a sub-second stamp could at worst be read twice, never
skipped. The ``client_credentials`` flow needs ``login_url`` to be the org's My Domain.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import httpx
import pyarrow as pa

from autonomos.connectors.base import (
    Connector,
    ConnectorError,
    FailureType,
    ReadItem,
    RecordBatchMessage,
    StateMessage,
    redact,
)
from autonomos.connectors.configs.salesforce import SalesforceConfig, base_url, http_schemes
from autonomos.connectors.edge import EdgePolicy
from autonomos.connectors.edge.http import guarded_httpx_client
from autonomos.connectors.schema import FieldSpec, FieldType, StreamSchema

log = logging.getLogger(__name__)

AuthFlow = Literal["client_credentials", "password"]
_CURSOR_CANDIDATES = ("SystemModstamp", "LastModifiedDate", "CreatedDate")
_ID = re.compile(r"^[A-Za-z0-9]{15,18}$")
_OBJECT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_DECIMAL_QUANTUM = Decimal(1).scaleb(-9)  # decimal128(38, 9)

_TYPES: dict[str, FieldType] = {
    **dict.fromkeys(
        ("id", "reference", "string", "picklist", "multipicklist", "combobox", "textarea"),
        FieldType.STRING,
    ),
    **dict.fromkeys(("email", "phone", "url", "encryptedstring", "time"), FieldType.STRING),
    "boolean": FieldType.BOOLEAN,
    "int": FieldType.INTEGER,
    "long": FieldType.INTEGER,
    "double": FieldType.NUMBER,
    "percent": FieldType.NUMBER,
    "currency": FieldType.DECIMAL,
    "date": FieldType.DATE,
    "datetime": FieldType.TIMESTAMP,
    **dict.fromkeys(("address", "location", "complexvalue", "anyType"), FieldType.JSON),
}


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter for transient failures."""

    max_attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0  # a longer Retry-After is handed to the caller instead

    def delay(self, attempt: int, jitter: float) -> float:
        return min(self.max_delay_s, self.base_delay_s * 2**attempt) * (0.5 + jitter / 2)


def _config_error(message: str) -> ConnectorError:
    return ConnectorError(message, FailureType.CONFIGURATION)


class SalesforceConnector(Connector):
    """Config: see :class:`~autonomos.connectors.configs.salesforce.SalesforceConfig`.

    Under an edge policy every connection (login URL, instance URL, the instance URL the
    OAuth answer returns) reaches only checked public addresses, and redirects are not
    followed: a token request answered elsewhere never carries the secrets along.
    """

    kind = "salesforce"
    config_model = SalesforceConfig
    options: SalesforceConfig

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        edge: EdgePolicy | None = None,
        http: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(config, edge=edge)
        self.settings = self.options
        timeout = httpx.Timeout(60.0, connect=10.0)
        if http is None and edge is not None:
            http = guarded_httpx_client(edge.hosts, timeout)
        self._http = http or httpx.Client(timeout=timeout)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._jitter = jitter
        self._token: str | None = None
        self._instance_url = self.settings.instance_url
        self._describes: dict[str, dict[str, Any]] = {}

    # -- protocol -------------------------------------------------------------------------

    def check(self) -> None:
        """Authenticate and describe every configured object (catches unknown objects)."""
        self._authenticate()
        self.discover()

    def discover(self) -> list[StreamSchema]:
        return [self._schema(obj) for obj in self.settings.objects]

    def read(self, stream: str, state: Mapping[str, Any] | None) -> Iterator[ReadItem]:
        schema = self._schema(stream)
        arrow_schema = pa.schema([pa.field(f.name, f.type.arrow_type()) for f in schema.fields])
        cursor_field = schema.cursor_field
        cursor, last_id = _parse_state(state)
        url: str | None = _query_path(self.settings.api_version)
        params: dict[str, str] | None = {"q": _soql(stream, schema, cursor_field, cursor, last_id)}
        while url:
            page = self._get(url, params=params, what=stream, query=True)
            records = [_clean(r) for r in page.get("records", [])]
            if records:
                yield RecordBatchMessage(_to_batch(records, schema, arrow_schema))
                last = records[-1]
                new_state: dict[str, Any] = {"last_id": last["Id"]}
                if cursor_field:
                    new_state["cursor"] = _soql_datetime(_parse_datetime(last[cursor_field]))
                yield StateMessage(new_state)
            url = None if page.get("done", True) else page.get("nextRecordsUrl")
            params = None

    def close(self) -> None:
        self._http.close()

    # -- schema ---------------------------------------------------------------------------

    def _schema(self, obj: str) -> StreamSchema:
        if obj not in self.settings.objects:
            raise _config_error(f"Salesforce object {obj!r} is not in this connection's objects")
        if obj not in self._describes:
            path = f"/services/data/{self.settings.api_version}/sobjects/{obj}/describe"
            self._describes[obj] = self._get(path, what=obj)
        describe = self._describes[obj]
        fields = tuple(
            FieldSpec(
                name=f["name"],
                type=_TYPES.get(f.get("type", ""), FieldType.STRING),
                nullable=bool(f.get("nillable", True)) and f["name"] != "Id",
                description=" - ".join(x for x in (f.get("label"), f.get("inlineHelpText")) if x)
                or None,
                source_type=f.get("type"),
            )
            for f in describe.get("fields", [])
            if not f.get("deprecatedAndHidden")
        )
        names = {f.name for f in fields}
        cursor = next((c for c in _CURSOR_CANDIDATES if c in names), None)
        return StreamSchema(
            name=obj,
            fields=fields,
            primary_key=("Id",),
            cursor_field=cursor,
            description=describe.get("label"),
            extra={"api_version": self.settings.api_version},
        )

    # -- HTTP -----------------------------------------------------------------------------

    def _authenticate(self) -> None:
        form = {
            "grant_type": self.settings.auth,
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret,
        }
        if self.settings.auth == "password":
            form["username"] = self.settings.username or ""
            form["password"] = (self.settings.password or "") + (self.settings.security_token or "")
        url = f"{self.settings.login_url}/services/oauth2/token"
        response = self._send("POST", url, what="OAuth token", data=form)
        if response.status_code in (400, 401):
            body = _json(response)
            code = body.get("error", "unknown") if isinstance(body, dict) else "unknown"
            detail = body.get("error_description", "") if isinstance(body, dict) else ""
            raise self._error(
                f"Salesforce rejected the credentials ({code}: {detail}); check client id, "
                f"secret, username, password and security token",
                FailureType.CONFIGURATION,
            )
        self._raise_for_status(response, "OAuth token")
        token = response.json()
        self._token = token["access_token"]
        self._instance_url = self.settings.instance_url or self._answered_instance(token)

    def _answered_instance(self, token: Mapping[str, Any]) -> str:
        """The instance URL the OAuth answer names: checked like a configured one."""
        url = str(token.get("instance_url") or "")
        try:
            parsed = base_url(url)
        except ValueError:
            raise self._error(
                "Salesforce OAuth answer: instance_url is not an https URL", FailureType.TERMINAL
            ) from None
        if self.edge is not None:
            self.edge.check_url(parsed, http_schemes(self.edge))
        return parsed

    def _get(
        self,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        query: bool = False,
    ) -> dict[str, Any]:
        if self._token is None:
            self._authenticate()
        refreshed = False
        while True:
            headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
            if query:
                headers["Sforce-Query-Options"] = f"batchSize={self.settings.batch_size}"
            url = f"{self._instance_url}{path}"
            response = self._send("GET", url, what=what, params=params, headers=headers)
            if response.status_code == 401 and not refreshed:
                log.info("Salesforce session expired; requesting a new token")
                self._authenticate()
                refreshed = True
                continue
            self._raise_for_status(response, what)
            # Decimals keep currency exact; floats are converted back for NUMBER fields.
            result: dict[str, Any] = json.loads(response.text, parse_float=Decimal)
            return result

    def _send(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        """Send with bounded retries on rate limits, 5xx and network errors."""
        policy = self._retry
        for attempt in range(policy.max_attempts):
            wait: float | None = None
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:  # timeouts, resets, refused connections
                reason = f"{type(exc).__name__}"
            else:
                if not _is_transient(response):
                    return response
                reason = f"HTTP {response.status_code} {_error_code(response) or ''}".strip()
                wait = _retry_after(response)
            if wait is not None and wait > policy.max_delay_s:
                raise self._error(
                    f"Salesforce {what}: {reason}; retry after {wait:.0f}s",
                    FailureType.TRANSIENT,
                    retry_after_s=wait,
                )
            if attempt + 1 == policy.max_attempts:
                raise self._error(
                    f"Salesforce {what}: {reason} after {policy.max_attempts} attempts",
                    FailureType.TRANSIENT,
                    retry_after_s=wait or policy.delay(attempt, 1.0),
                )
            delay = wait if wait is not None else policy.delay(attempt, self._jitter())
            log.warning("Salesforce %s: %s; retrying in %.1fs", what, reason, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")

    def _raise_for_status(self, response: httpx.Response, what: str) -> None:
        if response.is_success:
            return
        status, code = response.status_code, _error_code(response) or "unknown"
        message = _error_message(response)
        failure = {
            401: FailureType.CONFIGURATION,  # still rejected after a fresh token
            403: FailureType.CONFIGURATION,  # missing permission or API disabled
            404: FailureType.CONFIGURATION,  # unknown object or wrong API version
        }.get(status, FailureType.TERMINAL)
        if code in ("INVALID_TYPE", "NOT_FOUND", "API_DISABLED_FOR_ORG"):
            failure = FailureType.CONFIGURATION
        raise self._error(f"Salesforce {what}: HTTP {status} {code}: {message}", failure)

    def _error(
        self, message: str, failure: FailureType, *, retry_after_s: float | None = None
    ) -> ConnectorError:
        secrets = [*self.secrets(), self._token or ""]
        return ConnectorError(redact(message, secrets), failure, retry_after_s=retry_after_s)


# -- helpers --------------------------------------------------------------------------------


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _first_error(response: httpx.Response) -> dict[str, Any]:
    body = _json(response)
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0]
    return body if isinstance(body, dict) else {}


def _error_code(response: httpx.Response) -> str | None:
    error = _first_error(response)
    return error.get("errorCode") or error.get("error")


def _error_message(response: httpx.Response) -> str:
    error = _first_error(response)
    return str(error.get("message") or error.get("error_description") or "")[:300]


def _is_transient(response: httpx.Response) -> bool:
    status = response.status_code
    if status == 403:
        return _error_code(response) == "REQUEST_LIMIT_EXCEEDED"
    return status == 429 or status >= 500


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _parse_state(state: Mapping[str, Any] | None) -> tuple[dt.datetime | None, str | None]:
    if not state:
        return None, None
    cursor = _parse_datetime(state["cursor"]) if state.get("cursor") else None
    last_id = state.get("last_id")
    if last_id is not None and not _ID.match(str(last_id)):
        raise ConnectorError(f"invalid Salesforce id in state: {last_id!r}", FailureType.TERMINAL)
    return cursor, last_id


def _parse_datetime(value: str) -> dt.datetime:
    # Salesforce writes "2024-01-15T10:20:30.000+0000"; fromisoformat accepts it on 3.11.
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _soql_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _query_path(version: str) -> str:
    return f"/services/data/{version}/query"


def _soql(
    obj: str,
    schema: StreamSchema,
    cursor_field: str | None,
    cursor: dt.datetime | None,
    last_id: str | None,
) -> str:
    select = ", ".join(f.name for f in schema.fields)
    order = f"{cursor_field}, Id" if cursor_field else "Id"
    where = ""
    if cursor_field and cursor is not None:
        stamp = _soql_datetime(cursor)
        where = f" WHERE {cursor_field} > {stamp}"
        if last_id:
            where += f" OR ({cursor_field} = {stamp} AND Id > '{last_id}')"
    elif last_id:
        where = f" WHERE Id > '{last_id}'"
    # Every piece is validated: object names and ids by regex, fields from describe,
    # datetimes re-formatted. SOQL has no bind parameters over REST.
    return f"SELECT {select} FROM {obj}{where} ORDER BY {order}"  # noqa: S608


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "attributes"}


def _convert(value: Any, kind: FieldType) -> Any:
    if value is None:
        return None
    if kind is FieldType.JSON:
        return json.dumps(value, default=float, sort_keys=True)
    if kind is FieldType.TIMESTAMP:
        return _parse_datetime(value)
    if kind is FieldType.DATE:
        return dt.date.fromisoformat(value)
    if kind is FieldType.NUMBER:
        return float(value)
    if kind is FieldType.DECIMAL:
        return Decimal(value).quantize(_DECIMAL_QUANTUM)
    if kind is FieldType.INTEGER:
        return int(value)
    if kind is FieldType.STRING and not isinstance(value, str):
        return json.dumps(value, default=float) if isinstance(value, dict | list) else str(value)
    return value


def _to_batch(
    records: list[dict[str, Any]], schema: StreamSchema, arrow_schema: pa.Schema
) -> pa.RecordBatch:
    columns = [
        pa.array([_convert(r.get(f.name), f.type) for r in records], type=f.type.arrow_type())
        for f in schema.fields
    ]
    return pa.RecordBatch.from_arrays(columns, schema=arrow_schema)
