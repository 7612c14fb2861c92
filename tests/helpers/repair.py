"""Repair test doubles: a webhook receiver and a scripted matcher."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """A tiny webhook endpoint: records each POST, answers with ``status``."""

    def __init__(self, status: int = 200, delay_s: float = 0.0) -> None:
        self.status, self.delay_s = status, delay_s
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "content_type": self.headers.get("Content-Type"),
                        "json": json.loads(body),
                    }
                )
                if receiver.delay_s:
                    threading.Event().wait(receiver.delay_s)
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status == 200 else b"invalid_payload")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/XXXX"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class FakeSuggestion:
    source_field: str
    target: str | None
    confidence: float
    signals: dict[str, float] = field(default_factory=dict)
    alternatives: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class FakeResult:
    mappings: list[FakeSuggestion]


class FakeMatcher:
    """Suggests ``account.phone`` for ``phone`` and remembers what it was asked."""

    def __init__(self, confidence: float = 0.97) -> None:
        self.confidence = confidence
        self.calls: list[tuple[Any, str | None]] = []

    def suggest(self, schema: Any, entity: str | None = None) -> FakeResult:
        self.calls.append((schema, entity))
        out = []
        for f in schema.fields:
            if f.name == "phone":
                alts = [("account.phone", self.confidence), ("contact.phone", 0.02)]
                out.append(
                    FakeSuggestion("phone", "account.phone", self.confidence, {"name": 1.0}, alts)
                )
            else:
                out.append(FakeSuggestion(f.name, None, 0.1))
        return FakeResult(out)
