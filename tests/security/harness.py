"""What the security tests share: the app's OpenAPI operations, one of every object a
tenant can own, and a bridge that lets synchronous tools (schemathesis) call the
in-process app on its own event loop.

The app of the ``api`` fixture lives on pytest's session event loop: its database pools
(asyncpg's in particular) belong to that loop. Schemathesis drives a synchronous test
and sends each request through its own ASGI client, on a loop of its own;
:class:`LoopBridge` forwards each request to the session loop, which :func:`running`
runs in a helper thread for the duration of such a test.
"""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Tenant, files_connection
from tests.helpers.api import ENDLESS, tenant_objects
from tests.integration.repair.factories import sync

PUBLIC = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/logout"),
    }
)
_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    doc: dict[str, Any]

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, ids: dict[str, Any]) -> str:
        return self.path.format(**{name: ids[name] for name in self.path_params})


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation the OpenAPI document lists (each route once), but the endless
    streams (``tests.helpers.api.ENDLESS``: their answers are checked on real servers)."""
    return [
        Operation(method.upper(), path, doc)
        for path, item in document["paths"].items()
        for method, doc in item.items()
        if (method.upper(), path) not in ENDLESS
    ]


@dataclass
class Estate:
    """One tenant and one object of every kind it can own (by path parameter name)."""

    tenant: Tenant
    tenant_id: str
    ids: dict[str, str]
    views: list[str] = field(default_factory=list)
    marker: str = ""  # a value only this tenant's data holds (an account name)

    @property
    def secrets(self) -> set[str]:
        """Strings that only this tenant's answers may contain."""
        owned = {v for k, v in self.ids.items() if k != "entity"}
        return owned | {self.tenant_id, self.tenant.email, self.tenant.name, self.marker}


def _source(folder: Path, name: str, text: str) -> Path:
    """A folder holding one small CSV file (a files connection's source)."""
    folder.mkdir()
    (folder / name).write_text(text)
    return folder


async def _marked_connection(api: httpx.AsyncClient, t: Tenant, folder: Path, marker: str) -> str:
    """A files connection whose one account is named ``marker``, synced and mapped."""
    source = _source(folder, "customers.csv", f"id,name\n{marker},{marker}\n")
    cid = await files_connection(api, t, source, "marked")
    await sync(api, t, cid)
    for column, target in (("id", "account_id"), ("name", "name")):
        r = await api.put(
            "/api/v1/dcl/mappings",
            headers=t.headers,
            json={
                "connection_id": cid,
                "stream": "customers",
                "source_field": column,
                "entity": "account",
                "field": target,
                "materialize": False,
            },
        )
        assert r.status_code == 200, r.text
    return cid


async def build_estate(api: httpx.AsyncClient, t: Tenant, tmp_path: Path) -> Estate:
    """A connection synced, mapped and materialised into views, a sync run, a mapping,
    a repair proposal, a job (what the shared route-matrix helper makes), a second user,
    a second connection (for deletions), the views (``entity`` is the path id of
    ``/dcl/views/{entity}``), a view refresh, an upload folder and a knowledge-base document
    holding the marker."""
    ids = {k: str(v) for k, v in (await tenant_objects(api, t, tmp_path)).items()}
    me = (await api.get("/api/v1/auth/me", headers=t.headers)).json()
    r = await api.post(
        "/api/v1/users",
        headers=t.headers,
        json={"email": f"viewer-{uuid.uuid4().hex[:8]}@example.com", "password": "x" * 16},
    )
    assert r.status_code == 201, r.text
    ids["other_user_id"] = r.json()["id"]
    doomed = _source(tmp_path / f"doomed-{uuid.uuid4().hex[:6]}", "notes.csv", "id,text\n1,x\n")
    ids["doomed_connection_id"] = await files_connection(api, t, doomed, "doomed")
    marker = f"marker-{uuid.uuid4().hex}"
    marked = await _marked_connection(api, t, tmp_path / f"marked-{marker[-6:]}", marker)
    for cid in (ids["connection_id"], marked):
        r = await api.post(
            "/api/v1/dcl/materialize", headers=t.headers, json={"connection_id": cid, "full": True}
        )
        assert r.status_code == 200, r.text
    await api.runtime.agent_runner.drain()  # type: ignore[attr-defined]  # agents on the views
    views = (await api.get("/api/v1/dcl/views", headers=t.headers)).json()["views"]
    names = [v["name"] for v in views if v["rows"]]
    assert "account" in names, f"the marked account is in no view: {views}"
    ids["entity"] = "account"
    refreshes = (await api.get("/api/v1/dcl/refreshes", headers=t.headers)).json()["refreshes"]
    ids["refresh_id"] = refreshes[0]["id"]
    folder = f"crm-{uuid.uuid4().hex[:6]}"
    r = await api.post(
        "/api/v1/aam/uploads",
        headers=t.headers,
        params={"folder": folder},
        files={"file": ("accounts.csv", f"id,name\n1,{marker}\n".encode(), "text/csv")},
    )
    assert r.status_code == 201, r.text
    ids["folder"] = folder
    r = await api.post(
        "/nlp/v1/kb/documents",
        headers=t.headers,
        json={
            "title": "runbook",
            "text": f"How we close the books. Code word {marker}.",
        },
    )
    assert r.status_code == 201, r.text
    ids["document_id"] = r.json()["id"]
    return Estate(t, me["tenant_id"], ids, names, marker)


@contextmanager
def running(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Run ``loop`` (idle: pytest-asyncio runs it only inside async tests and fixtures)
    in a helper thread, so a synchronous test can hand it coroutines.

    Before the loop goes back to the main thread, every task started on it meanwhile
    finishes (a sync run the test started, say): SQLAlchemy's greenlets cannot resume on
    another thread. Tasks that were there before (the app's background loops: the event
    hub, the sweeps) are the app's, and go on.
    """
    before = asyncio.all_tasks(loop)
    thread = threading.Thread(target=loop.run_forever, name="app-loop", daemon=True)
    thread.start()
    try:
        yield
    finally:
        asyncio.run_coroutine_threadsafe(_settle(before), loop).result(timeout=120)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)


async def _settle(before: set[asyncio.Task[Any]]) -> None:
    while others := asyncio.all_tasks() - before - {asyncio.current_task()}:
        await asyncio.wait(others)


class LoopBridge:
    """An ASGI app that runs each HTTP request on ``app`` in ``loop``, whole body in,
    whole response out. A request the app fails on still gets the 500 it sent (the
    error handler answers, then re-raises for the server's log)."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.loop = app, loop

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the app's lifespan belongs to the `api` fixture
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"{message['type']}.complete"})
                if kind == "shutdown":
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        sent: list[dict[str, Any]] = []
        future = asyncio.run_coroutine_threadsafe(self._call(scope, body, sent), self.loop)
        try:
            await asyncio.wrap_future(future)
        except Exception:
            if not sent:
                sent = [
                    {"type": "http.response.start", "status": 500, "headers": []},
                    {"type": "http.response.body", "body": b"bridge: the app failed"},
                ]
        for message in sent:
            await send(message)

    async def _call(self, scope: dict[str, Any], body: bytes, sent: list[dict[str, Any]]) -> None:
        done = asyncio.Event()
        delivered = False

        async def app_receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def app_send(message: dict[str, Any]) -> None:
            sent.append(message)

        try:
            await self.app(dict(scope, state=dict(scope.get("state") or {})), app_receive, app_send)
        finally:
            done.set()


# -- requests built from the OpenAPI document -----------------------------------------


def resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def example(schema: dict[str, Any], doc: dict[str, Any], ids: dict[str, str]) -> Any:
    """A small valid instance of ``schema``: required properties, plus every property
    naming an object (``..._id``) filled from ``ids`` (what the matrix aims at)."""
    schema = resolve(schema, doc)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if resolve(o, doc).get("type") != "null"]
            return example(options[0], doc, ids) if options else None
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        wanted = set(schema.get("required", ())) | {
            name for name, sub in properties.items() if _names_object(name) or _objects(sub, doc)
        }
        body = {name: example(properties[name], doc, ids) for name in properties if name in wanted}
        for name in body:
            if _names_object(name):
                body[name] = ids[name]
        return body
    if kind == "array":
        return [example(schema["items"], doc, ids)] * schema.get("minItems", 0)
    if kind == "string":
        return {
            "uuid": str(uuid.uuid4()),
            "email": f"x-{uuid.uuid4().hex[:8]}@example.com",
            "date": "2026-01-01",
            "date-time": "2026-01-01T00:00:00Z",
        }.get(schema.get("format", ""), "x" * max(int(schema.get("minLength", 1)), 1))
    if kind in ("integer", "number"):
        return max(schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1)
    if kind == "boolean":
        return False
    return None


# ``..._id`` properties that are the client's own labels, not the platform's objects
CLIENT_KEYS = frozenset({"external_id"})


def _names_object(name: str) -> bool:
    return name.endswith("_id") and name not in CLIENT_KEYS


def _objects(schema: dict[str, Any], doc: dict[str, Any]) -> bool:
    """Whether ``schema`` is (or may be) an object with a property naming an object."""
    schema = resolve(schema, doc)
    options = schema.get("anyOf", []) + schema.get("oneOf", []) + [schema]
    return any(
        name.endswith("_id") for o in options for name in resolve(o, doc).get("properties", {})
    )


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    params: dict[str, Any]
    body: Any
    slots: tuple[str, ...]  # the names that carry object ids (path, query, body)


def build_call(op: Operation, doc: dict[str, Any], ids: dict[str, str]) -> Call:
    """``op`` as a valid request whose every object reference is taken from ``ids``
    (KeyError names a kind of object the estate lacks)."""
    params: dict[str, Any] = {}
    slots: list[str] = list(op.path_params)
    for p in op.doc.get("parameters", []):
        if p["in"] != "query":
            continue
        if p["name"].endswith("_id"):
            params[p["name"]] = ids[p["name"]]
            slots.append(p["name"])
        elif p.get("required"):
            params[p["name"]] = example(p["schema"], doc, ids)
    body = None
    content = op.doc.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = example(content["application/json"]["schema"], doc, ids)
        slots += _id_names(body)
    return Call(op.method, op.url(ids), params, body, tuple(slots))


def _id_names(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    names = [k for k in body if k.endswith("_id")]
    return names + [n for v in body.values() for n in _id_names(v)]
