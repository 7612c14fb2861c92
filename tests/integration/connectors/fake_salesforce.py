"""A local Salesforce REST API stand-in: real HTTP, responses shaped as Salesforce documents.

Serves the OAuth2 token endpoint (client_credentials and password grants), sObject
describe, and SOQL query with ``nextRecordsUrl`` pagination. The SOQL support is the
subset the connector emits: ``SELECT fields FROM Object [WHERE cond] ORDER BY a, b`` with
comparisons on datetime and quoted literals joined by AND / OR / parentheses.

Switches (``FakeSalesforce`` attributes) inject failures: ``faults`` (a queue of error
responses served before the next data-API call), ``expire_tokens()``, and wrong
credentials (anything other than ``CLIENT_ID`` / ``CLIENT_SECRET`` / ``USERNAME`` ...).
"""

from __future__ import annotations

import itertools
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

CLIENT_ID = "3MVG9fake.client.id"
CLIENT_SECRET = "s3cr3t-client-SECRET-42"
USERNAME = "integration@example.com"
PASSWORD = "Pa55w0rd-very-secret"
SECURITY_TOKEN = "TOKENabcdef123456"
VERSION = "v60.0"


def describe_field(name: str, sf_type: str, label: str, **extra: Any) -> dict[str, Any]:
    """One ``fields[]`` entry of a describe response, with the keys Salesforce sends."""
    entry = {
        "aggregatable": True,
        "autoNumber": False,
        "byteLength": 0,
        "calculated": False,
        "createable": sf_type != "id",
        "custom": name.endswith("__c"),
        "defaultValue": None,
        "deprecatedAndHidden": False,
        "digits": 0,
        "filterable": True,
        "inlineHelpText": None,
        "label": label,
        "length": 0,
        "name": name,
        "nillable": sf_type not in ("id", "boolean", "datetime"),
        "picklistValues": [],
        "precision": 0,
        "referenceTo": [],
        "scale": 0,
        "soapType": {"id": "tns:ID", "boolean": "xsd:boolean"}.get(sf_type, "xsd:string"),
        "sortable": True,
        "type": sf_type,
        "updateable": sf_type != "id",
    }
    entry.update(extra)
    return entry


ACCOUNT_FIELDS = [
    describe_field("Id", "id", "Account ID", length=18, byteLength=18),
    describe_field("IsDeleted", "boolean", "Deleted"),
    describe_field("Name", "string", "Account Name", length=255, nillable=False),
    describe_field("Type", "picklist", "Account Type", length=255),
    describe_field("BillingAddress", "address", "Billing Address"),
    describe_field("Phone", "phone", "Account Phone", length=40),
    describe_field("Website", "url", "Website", length=255),
    describe_field("AnnualRevenue", "currency", "Annual Revenue", precision=18, scale=0),
    describe_field("NumberOfEmployees", "int", "Employees", digits=8),
    describe_field("Rating__c", "percent", "Rating", precision=5, scale=2),
    describe_field(
        "Score__c", "double", "Score", precision=18, scale=4, inlineHelpText="Fit score 0-1"
    ),
    describe_field("OwnerId", "reference", "Owner ID", referenceTo=["User"], length=18),
    describe_field("LastActivityDate", "date", "Last Activity"),
    describe_field("Legacy__c", "string", "Legacy", deprecatedAndHidden=True),
    describe_field("SystemModstamp", "datetime", "System Modstamp"),
]


@dataclass
class Fault:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeSalesforce:
    base_url: str = ""
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    describes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: deque[Fault] = field(default_factory=deque)
    tokens: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    _cursors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def reset(self) -> None:
        self.objects.clear()
        self.describes = {"Account": ACCOUNT_FIELDS}
        self.faults.clear()
        self.tokens.clear()
        self.token_requests.clear()
        self.queries.clear()
        self._cursors.clear()

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def rate_limit(self) -> None:
        body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        self.faults.append(Fault(403, body))

    def too_many_requests(self, retry_after: str) -> None:
        body = [{"message": "Too many requests", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        self.faults.append(Fault(429, body, {"Retry-After": retry_after}))

    def server_error(self) -> None:
        self.faults.append(Fault(500, [{"message": "Internal error", "errorCode": "UNKNOWN"}]))

    def page(self, rows: list[dict[str, Any]], obj: str, size: int) -> dict[str, Any]:
        head, rest = rows[:size], rows[size:]
        body: dict[str, Any] = {
            "totalSize": len(head) + len(rest),
            "done": not rest,
            "records": head,
        }
        if rest:
            locator = f"01gRO0000016{next(self._counter):04d}AYA2-{size}"
            self._cursors[locator] = rest
            body["nextRecordsUrl"] = f"/services/data/{VERSION}/query/{locator}"
        return body


def _record(obj: str, row: dict[str, Any]) -> dict[str, Any]:
    url = f"/services/data/{VERSION}/sobjects/{obj}/{row['Id']}"
    return {"attributes": {"type": obj, "url": url}, **row}


# -- a tiny SOQL WHERE evaluator -----------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'[^']*')|(?P<op>>=|<=|!=|=|>|<)|(?P<paren>[()])|(?P<word>[\w.:+-]+))"
)


def _tokens(text: str) -> list[str]:
    return [m.group(0).strip() for m in _TOKEN.finditer(text) if m.group(0).strip()]


def _norm(value: Any) -> Any:
    # Salesforce datetimes ("2024-01-01T00:00:00.000+0000") and SOQL literals
    # ("2024-01-01T00:00:00Z") compare as the same instant once normalised.
    if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT", value):
        return value[:19]
    return value


def _evaluate(tokens: list[str], row: dict[str, Any]) -> bool:
    pos = 0

    def expr() -> bool:
        nonlocal pos
        value = term()
        while pos < len(tokens) and tokens[pos].upper() == "OR":
            pos += 1
            value = term() or value
        return value

    def term() -> bool:
        nonlocal pos
        value = atom()
        while pos < len(tokens) and tokens[pos].upper() == "AND":
            pos += 1
            value = atom() and value
        return value

    def atom() -> bool:
        nonlocal pos
        if tokens[pos] == "(":
            pos += 1
            value = expr()
            pos += 1  # ")"
            return value
        name, op, literal = tokens[pos : pos + 3]
        pos += 3
        left, right = _norm(row.get(name)), _norm(literal.strip("'"))
        return {
            "=": left == right,
            "!=": left != right,
            ">": left is not None and left > right,
            ">=": left is not None and left >= right,
            "<": left is not None and left < right,
            "<=": left is not None and left <= right,
        }[op]

    return expr()


_SOQL = re.compile(
    r"^SELECT (?P<fields>.+?) FROM (?P<obj>\w+)(?: WHERE (?P<where>.+?))?"
    r"(?: ORDER BY (?P<order>[\w, ]+))?$",
    re.S,
)


def create_app(fake: FakeSalesforce) -> FastAPI:
    app = FastAPI()

    def error(status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse([{"message": message, "errorCode": code}], status_code=status)

    def gate(request: Request) -> JSONResponse | None:
        if fake.faults:
            fault = fake.faults.popleft()
            return JSONResponse(fault.body, status_code=fault.status, headers=fault.headers)
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in fake.tokens:
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return None

    @app.post("/services/oauth2/token")
    async def token(request: Request) -> JSONResponse:
        form = {k: str(v) for k, v in (await request.form()).items()}
        fake.token_requests.append(form)
        grant = form.get("grant_type")
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            body = {"error": "invalid_client", "error_description": "invalid client credentials"}
            return JSONResponse(body, status_code=400)
        if grant == "password" and (
            form.get("username") != USERNAME or form.get("password") != PASSWORD + SECURITY_TOKEN
        ):
            body = {"error": "invalid_grant", "error_description": "authentication failure"}
            return JSONResponse(body, status_code=400)
        if grant not in ("password", "client_credentials"):
            body = {
                "error": "unsupported_grant_type",
                "error_description": "grant type not supported",
            }
            return JSONResponse(body, status_code=400)
        access_token = f"00DRO000000fake!AQ{len(fake.token_requests):04d}"
        fake.tokens.add(access_token)
        return JSONResponse(
            {
                "access_token": access_token,
                "signature": "f4k3S1gn4tur3=",
                "scope": "api",
                "instance_url": fake.base_url,
                "id": f"{fake.base_url}/id/00DRO000000fake/005RO000000fake",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
            }
        )

    @app.get("/services/data/{version}/sobjects/{obj}/describe")
    def describe(obj: str, request: Request) -> JSONResponse:
        if denied := gate(request):
            return denied
        if obj not in fake.describes:
            return error(404, "NOT_FOUND", "The requested resource does not exist")
        return JSONResponse(
            {"name": obj, "label": obj, "queryable": True, "fields": fake.describes[obj]}
        )

    @app.get("/services/data/{version}/query")
    def query(q: str, request: Request) -> JSONResponse:
        if denied := gate(request):
            return denied
        fake.queries.append(q)
        match = _SOQL.match(q.strip())
        if not match:
            return error(400, "MALFORMED_QUERY", "unexpected token")
        obj = match["obj"]
        if obj not in fake.describes:
            return error(400, "INVALID_TYPE", f"sObject type '{obj}' is not supported.")
        fields = [f.strip() for f in match["fields"].split(",")]
        rows = list(fake.objects.get(obj, []))
        if match["where"]:
            tokens = _tokens(match["where"])
            rows = [r for r in rows if _evaluate(tokens, r)]
        for key in reversed([k.strip() for k in (match["order"] or "").split(",") if k.strip()]):
            rows.sort(key=lambda r, k=key: _norm(r.get(k)))
        projected = [_record(obj, {f: r.get(f) for f in fields}) for r in rows]
        options = request.headers.get("Sforce-Query-Options", "batchSize=2000")
        size = int(options.split("=")[1])
        return JSONResponse(fake.page(projected, obj, size))

    @app.get("/services/data/{version}/query/{locator}")
    def query_more(locator: str, request: Request) -> JSONResponse:
        if denied := gate(request):
            return denied
        rows = fake._cursors.pop(locator, None)
        if rows is None:
            return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        size = int(locator.rsplit("-", 1)[1])
        return JSONResponse(fake.page(rows, "", size))

    return app


class FakeSalesforceServer:
    """Runs the fake under uvicorn in a background thread on a free local port."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.fake = FakeSalesforce(base_url=f"http://127.0.0.1:{self.port}")
        self.fake.reset()
        config = uvicorn.Config(
            create_app(self.fake), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> FakeSalesforce:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake Salesforce did not start")
            time.sleep(0.02)
        return self.fake

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
