"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path).

- Request ids: taken from ``X-Request-ID`` when sane, else generated; echoed back and
  stored on ``request.state`` so error logs and audit rows can quote it.
- Body limit: a declared or streamed body over ``max_body_bytes`` gets 413 before the
  app parses it; routes that take files (uploads) have their own, larger limit.
- Unexpected errors: logged with the request id and answered 500 here, so the exception
  stops at this layer. (Starlette's own 500 handler re-raises after answering, and the
  server then drops the client's keep-alive connection.)
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autonomos.serve_apps.api.errors import error_body

log = logging.getLogger("autonomos.api")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class _TooLarge(HTTPException):
    """Raised from ``receive``; FastAPI re-raises HTTPExceptions met while reading a body."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds {limit} bytes")


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: list[Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int, larger_bodies: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.larger_bodies = dict(larger_bodies or {})  # exact path -> its body limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        declared = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                request_id = candidate if _SANE_ID.match(candidate) else ""
            elif name == b"content-length":
                declared = value
        request_id = request_id or os.urandom(16).hex()  # uuid4().hex's randomness, 4x cheaper
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode())
        limit = self.larger_bodies.get(scope.get("path", ""), self.max_body_bytes)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _send_json(
                send,
                413,
                error_body("payload_too_large", f"request body exceeds {limit} bytes"),
                [id_header],
            )
            return

        received = 0
        started = finished = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), id_header]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except _TooLarge:
            if not started:
                await _send_json(
                    send,
                    413,
                    error_body("payload_too_large", f"request body exceeds {limit} bytes"),
                    [id_header],
                )
        except Exception:
            log.exception("unhandled error (request_id=%s)", request_id)
            if finished:  # e.g. a background task after the answer: nothing left to say
                return
            if started:  # half a response is out: only closing the connection can say so
                raise
            await _send_json(
                send,
                500,
                error_body(
                    "internal_error",
                    "internal error; quote the request id",
                    {"request_id": request_id},
                ),
                [id_header],
            )
