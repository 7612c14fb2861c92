"""/api/v1/events: the caller's tenant's event log, as history and live.

- ``GET /api/v1/events``: a page of the log (``after``, ``types``, ``limit``).
- ``GET /api/v1/events/stream``: Server-Sent Events. ``Last-Event-ID`` (or ``?after=``)
  replays the log after that id, then goes on live, without a gap or a repeat; without
  either, only new events come. A ``: ping`` comment every ``AUTONOMOS_EVENT_HEARTBEAT_S``.
- ``/api/v1/events/ws``: the same over a WebSocket. The token comes in the first message
  (never in the URL, which proxies log); one JSON message per event, ``{"type": "ping"}``
  after a heartbeat period without one.

A client that falls more than ``AUTONOMOS_EVENT_BUFFER`` events behind gets ``overflow``
with the last id it was given and is closed (WebSocket code 1013); one that accepts
nothing for ``AUTONOMOS_EVENT_SEND_TIMEOUT_S`` (its connection's buffers full) is closed
without it. Either resumes from the log with its last id and loses nothing; nobody else
waits on it. A stream also ends when its token stops authenticating (expired, logged
out, user deactivated: checked once per heartbeat period); the client reconnects with a
fresh token and its last id.

Each open stream holds one of its replica's ``AUTONOMOS_SERVE_MAX_ONGOING_REQUESTS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import SendTimeoutError
from starlette.types import Receive, Scope, Send

from autonomos.auth.errors import AuthError
from autonomos.auth.tokens import TokenError
from autonomos.config import Settings
from autonomos.events.hub import EventHub, Overflow
from autonomos.events.log import Event, EventLog, TypeFilter
from autonomos.serve_apps.api.deps import (
    BearerToken,
    EventHubDep,
    EventLogDep,
    RuntimeDep,
    SettingsDep,
    Viewer,
)
from autonomos.serve_apps.api.errors import ApiError
from autonomos.serve_apps.api.schemas import Strict

log = logging.getLogger("autonomos.api.events")

router = APIRouter(prefix="/api/v1/events", tags=["events"])

MAX_ID = 2**63 - 1
WS_POLICY = 1008  # no or bad token
WS_BAD_INPUT = 1007  # a first message that is not what the protocol asks
WS_TRY_AGAIN = 1013  # overflow: the client resumes from the log
WS_HELLO_S = 10.0  # time a WebSocket client has to send its first message

After = Annotated[
    int | None,
    Query(ge=0, le=MAX_ID, description="Only events with a larger id (the last id seen)."),
]
Types = Annotated[
    str | None,
    Query(
        max_length=1000,
        description="Comma-separated event types; `prefix.*` matches every type that starts "
        "with `prefix.` (e.g. `sync.*,agent.finding`). Default: every type.",
    ),
]


class EventPage(BaseModel):
    items: list[Event] = Field(description="In ascending id order.")
    next_after: int | None = Field(
        description="The id of the last item: pass it as `after` for the next page "
        "(null when the page is empty)."
    )


def _invalid(name: str, message: str) -> ApiError:
    return ApiError(
        422,
        "validation_error",
        f"{name}: {message}",
        details=[{"loc": ["query" if name != "Last-Event-ID" else "header", name], "msg": message}],
    )


def _types(raw: str | None) -> TypeFilter | None:
    try:
        return TypeFilter.parse(raw)
    except ValueError as e:
        raise _invalid("types", str(e)) from None


@router.get("", operation_id="listEvents")
async def list_events(
    principal: Viewer,
    events: EventLogDep,
    after: After = None,
    types: Types = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    """The tenant's event log, oldest first, page by page (``next_after``)."""
    items = await events.read(principal.tenant_id, after=after, types=_types(types), limit=limit)
    return EventPage(items=items, next_after=items[-1].id if items else None)


# -- Server-Sent Events --------------------------------------------------------------------


class _EventStream(EventSourceResponse):
    """An SSE response whose client stopped reading is closed quietly (it resumes)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except SendTimeoutError:
            log.info(
                "closed an event stream whose client accepted nothing for %ss", self.send_timeout
            )


async def _start(events: EventLog, tenant_id: uuid.UUID, after: int | None) -> None:
    """422 for an ``after`` beyond the tenant's newest event, before anything streams."""
    if after is not None and after > (last := await events.last_id(tenant_id)):
        raise _invalid(
            "after",
            f"{after} is beyond this tenant's newest event ({last}); "
            "start without it to follow new events",
        )


def _last_event_id(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.strip().isdigit() or int(raw) > MAX_ID:
        raise _invalid("Last-Event-ID", "must be an event id (a non-negative integer)")
    return int(raw)


Recheck = Callable[[], Awaitable[bool]]


def _rechecker(runtime: RuntimeDep, token: str) -> Recheck:
    async def still_valid() -> bool:
        try:
            await runtime.auth.authenticate(token)
        except (TokenError, AuthError):
            return False
        return True

    return still_valid


async def _sse(
    hub: EventHub,
    tenant_id: uuid.UUID,
    after: int | None,
    types: TypeFilter | None,
    settings: Settings,
    still_valid: Recheck,
) -> AsyncIterator[bytes]:
    async with hub.subscribe(tenant_id, after=after, types=types) as sub:
        checked = time.monotonic()
        while True:
            try:
                frames = await sub.next(settings.event_heartbeat_s)
            except Overflow as o:
                yield f'event: overflow\ndata: {{"last_id": {o.last_id}}}\n\n'.encode()
                return
            if frames:
                yield b"".join(f.sse for f in frames)
            if time.monotonic() - checked >= settings.event_heartbeat_s:
                if not await still_valid():
                    return
                checked = time.monotonic()


@router.get(
    "/stream",
    operation_id="streamEvents",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "`text/event-stream`: `id: <id>\\nevent: <type>\\ndata: <event JSON>`"
            ' per event, `: ping` heartbeats, `event: overflow` + `data: {"last_id": <id>}` '
            "before closing a client that fell behind.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def stream_events(
    principal: Viewer,
    token: BearerToken,
    runtime: RuntimeDep,
    events: EventLogDep,
    hub: EventHubDep,
    settings: SettingsDep,
    after: After = None,
    types: Types = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=32,
            description="Resume after this id (what a reconnecting client sends); wins "
            "over `after`.",
        ),
    ] = None,
) -> EventSourceResponse:
    """The tenant's events as they happen (Server-Sent Events), resumable without a gap
    or a repeat."""
    resume = _last_event_id(last_event_id)
    start = resume if resume is not None else after
    type_filter = _types(types)
    await _start(events, principal.tenant_id, start)
    assert token is not None  # Viewer authenticated it
    body = _sse(hub, principal.tenant_id, start, type_filter, settings, _rechecker(runtime, token))
    return _EventStream(
        body,
        ping=settings.event_heartbeat_s,
        sep="\n",
        ping_message_factory=lambda: ServerSentEvent(comment="ping", sep="\n"),
        send_timeout=settings.event_send_timeout_s,
    )


# -- WebSocket -----------------------------------------------------------------------------


class Hello(Strict):
    """The first message of a WebSocket client."""

    token: str = Field(min_length=1, max_length=8192)
    after: int | None = Field(None, ge=0, le=MAX_ID)
    types: str | None = Field(None, max_length=1000)


async def _hello(ws: WebSocket, runtime: RuntimeDep) -> tuple[uuid.UUID, Hello] | None:
    """The caller's tenant and first message, or None once the socket was closed."""
    try:
        async with asyncio.timeout(WS_HELLO_S):
            raw = await ws.receive_text()
    except TimeoutError:
        await _close(ws, WS_POLICY, f"send the token within {WS_HELLO_S:g} s")
        return None
    except (WebSocketDisconnect, KeyError, RuntimeError):  # gone, or a binary message
        await _close(ws, WS_BAD_INPUT, "the first message must be JSON text")
        return None
    try:
        hello = Hello.model_validate_json(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        code = WS_POLICY if where == "token" else WS_BAD_INPUT
        await _close(ws, code, f"{where}: {first['msg']}")
        return None
    try:
        principal = await runtime.auth.authenticate(hello.token)
    except (TokenError, AuthError):
        await _close(ws, WS_POLICY, "invalid token")
        return None
    return principal.tenant_id, hello


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
        await ws.close(code, reason.encode()[:120].decode(errors="ignore"))


async def _send(ws: WebSocket, text: str, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        await ws.send_text(text)


async def _ws_stream(
    ws: WebSocket,
    hub: EventHub,
    tenant_id: uuid.UUID,
    hello: Hello,
    types: TypeFilter | None,
    settings: Settings,
    still_valid: Recheck,
) -> None:
    timeout = settings.event_send_timeout_s
    async with hub.subscribe(tenant_id, after=hello.after, types=types) as sub:
        checked = time.monotonic()
        while True:
            try:
                frames = await sub.next(settings.event_heartbeat_s)
            except Overflow as o:
                await _send(ws, json.dumps({"type": "overflow", "last_id": o.last_id}), timeout)
                await _close(ws, WS_TRY_AGAIN, "fell behind: resume after last_id")
                return
            if not frames:
                await _send(ws, '{"type":"ping"}', timeout)
            for frame in frames:
                await _send(ws, frame.json, timeout)
            if time.monotonic() - checked >= settings.event_heartbeat_s:
                if not await still_valid():
                    await _close(ws, WS_POLICY, "the token expired or was revoked")
                    return
                checked = time.monotonic()


async def _until_closed(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends until it goes."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass


@router.websocket("/ws")
async def events_ws(
    ws: WebSocket, runtime: RuntimeDep, events: EventLogDep, hub: EventHubDep
) -> None:
    """The tenant's events over a WebSocket: the first message is ``{"token", "after",
    "types"}``; closed with 1008 for a missing or bad token, 1007 for a bad message."""
    await ws.accept()
    answered = await _hello(ws, runtime)
    if answered is None:
        return
    tenant_id, hello = answered
    try:
        types = TypeFilter.parse(hello.types)
        await _start(events, tenant_id, hello.after)
    except (ValueError, ApiError) as e:
        await _close(ws, WS_BAD_INPUT, getattr(e, "message", None) or str(e))
        return
    settings = runtime.settings
    stream = asyncio.ensure_future(
        _ws_stream(ws, hub, tenant_id, hello, types, settings, _rechecker(runtime, hello.token))
    )
    reader = asyncio.ensure_future(_until_closed(ws))
    try:
        await asyncio.wait({stream, reader}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (stream, reader):
            task.cancel()
        done = await asyncio.gather(stream, reader, return_exceptions=True)
    if isinstance(done[0], TimeoutError):
        log.info(
            "closed an event WebSocket whose client accepted nothing for %ss",
            settings.event_send_timeout_s,
        )
    elif isinstance(done[0], Exception) and not isinstance(done[0], WebSocketDisconnect | OSError):
        log.error("event WebSocket failed: %r", done[0])
