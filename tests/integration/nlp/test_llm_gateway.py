"""The NLP gateway against a real OpenAI-compatible server: a small FastAPI app this test
runs with uvicorn on 127.0.0.1, answering chat completions the way vLLM's server does.

The platform runs as configured for a remote LLM (``AUTONOMOS_LLM_BASE_URL`` at that
server), on its own SQLite data dir: what it sends carries the persona's prompt and no
PII; each tenant's daily token budget answers 429 past it (and nothing is sent);
transient failures are retried with backoff; the telemetry counts exactly the requests
the server received.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from autonomos.models.telemetry import get_recorder
from tests.conftest import Tenant, free_port, make_settings, register

PROMPT_TOKENS, COMPLETION_TOKENS = 300, 50


class OpenAIServer:
    """POST /v1/chat/completions: answers a grounded JSON answer citing the first fact it
    was given; ``failures`` scripted statuses come first; ``delay_s`` before answering."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.failures: list[int] = []
        self.delay_s = 0.0
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append(body)
            if self.failures:
                status = self.failures.pop(0)
                return JSONResponse({"error": {"message": "overloaded"}}, status)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            user = body["messages"][-1]["content"]
            facts = re.findall(r"^\[(F\d+)\] \([^)]*\) (.*)$", user, re.MULTILINE)
            answer = {
                "headline": "Model headline.",
                "points": [{"text": f"Model says: {facts[0][1]}", "cites": [facts[0][0], "F99"]}]
                if facts
                else [],
            }
            return JSONResponse(
                {
                    "id": f"chatcmpl-{len(self.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": json.dumps(answer)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": PROMPT_TOKENS,
                        "completion_tokens": COMPLETION_TOKENS,
                        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
                    },
                }
            )

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "test LLM server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def sent_to(self, since: int = 0) -> str:
        return json.dumps(self.requests[since:])


@pytest.fixture(scope="module")
def llm_server() -> Iterator[OpenAIServer]:
    server = OpenAIServer()
    server.start()
    yield server
    server.stop()


BUDGET = 2 * (PROMPT_TOKENS + COMPLETION_TOKENS) - 1  # two calls fit, the third does not


@pytest.fixture(scope="module")
async def gateway(
    llm_server: OpenAIServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    from autonomos.serve_apps.api.app import create_app

    settings = make_settings(
        tmp_path_factory.mktemp("gateway") / "data",
        llm_backend="openai",
        llm_base_url=llm_server.url,
        llm_model="test-llm",
        llm_timeout_s=1.0,
        llm_max_retries=2,
        llm_retry_backoff_s=0.01,
        llm_tenant_daily_tokens=BUDGET,
        persona_router="lexical",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.runtime = app.state.runtime  # type: ignore[attr-defined]
            yield client


async def usage(gateway: httpx.AsyncClient, t: Tenant) -> dict[str, Any]:
    get_recorder(gateway.runtime.settings).flush()  # type: ignore[attr-defined]
    r = await gateway.get("/api/v1/telemetry/llm", headers=t.headers)
    assert r.status_code == 200, r.text
    rows = [u for u in r.json()["usage"] if u["kind"] == "llm"]
    return rows[0] if rows else {}


PII = {
    "email": "maria.gonzalez@example.org",
    "phone": "+44 20 7946 0958",
    "card": "4111 1111 1111 1111",
    "person": "Maria Gonzalez",
}


async def test_prompts_carry_the_persona_and_no_pii(
    gateway: httpx.AsyncClient, llm_server: OpenAIServer
) -> None:
    t = await register(gateway, "pii")
    await gateway.put("/nlp/v1/kb/settings", headers=t.headers, json={"pii_redaction": False})
    doc = (
        f"Escalation contact for overdue invoices: {PII['person']} ({PII['email']}, "
        f"{PII['phone']}). Refunds go back to card {PII['card']}."
    )
    r = await gateway.post("/nlp/v1/kb/documents", headers=t.headers, json={"text": doc})
    assert r.status_code == 201 and r.json()["pii_redacted"] is False, r.text
    before = len(llm_server.requests)
    question = f"Who does {PII['person']} ({PII['email']}) call about overdue invoices?"
    r = await gateway.post("/nlp/v1/ask", headers=t.headers, json={"question": question})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["model"] == "test-llm" and answer["fallback"] is None
    # the model's citation of a fact it was not given (F99) is dropped
    assert answer["points"][0]["citations"] == ["F1"]
    sent = llm_server.sent_to(before)
    assert len(llm_server.requests) == before + 1
    for kind, value in PII.items():
        assert value not in sent, kind
    assert "Gonzalez" not in sent
    assert "[EMAIL]" in sent and "[PERSON]" in sent
    # the passage reached the model (redacted), as a cited fact of the knowledge base
    assert "Escalation contact for overdue invoices" in sent

    before = len(llm_server.requests)
    r = await gateway.get("/nlp/v1/persona/summary", headers=t.headers, params={"persona": "CTO"})
    assert r.status_code == 200, r.text
    system = llm_server.requests[before]["messages"][0]["content"]
    assert system.startswith("You brief the Chief Technology Officer")
    assert llm_server.requests[before]["model"] == "test-llm"


async def test_the_daily_token_budget_answers_429_and_sends_nothing(
    gateway: httpx.AsyncClient, llm_server: OpenAIServer
) -> None:
    t, other = await register(gateway, "budget"), await register(gateway, "other")
    for _ in range(2):
        r = await gateway.get(
            "/nlp/v1/persona/summary", headers=t.headers, params={"persona": "CFO"}
        )
        assert r.status_code == 200, r.text
    before = len(llm_server.requests)
    r = await gateway.post("/nlp/v1/ask", headers=t.headers, json={"question": "How is cash?"})
    assert r.status_code == 429, r.text
    err = r.json()["error"]
    assert err["code"] == "llm_budget_exceeded"
    assert f"{BUDGET:,} LLM tokens" in err["message"] and "resets" in err["message"]
    assert err["details"]["used_tokens"] == 2 * (PROMPT_TOKENS + COMPLETION_TOKENS)
    assert 0 < int(r.headers["Retry-After"]) <= 86_400
    assert len(llm_server.requests) == before  # refused before anything was sent
    # the budget is per tenant
    r = await gateway.get(
        "/nlp/v1/persona/summary", headers=other.headers, params={"persona": "CFO"}
    )
    assert r.status_code == 200, r.text


async def test_transient_failures_are_retried_and_every_request_is_counted(
    gateway: httpx.AsyncClient, llm_server: OpenAIServer
) -> None:
    t = await register(gateway, "retry")
    before = len(llm_server.requests)
    llm_server.failures = [503]
    r = await gateway.get("/nlp/v1/persona/summary", headers=t.headers, params={"persona": "COO"})
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "test-llm" and r.json()["fallback"] is None
    assert len(llm_server.requests) == before + 2  # the failure, then its retry

    # too slow every time: three attempts (timeout 1 s), then composed from the facts
    llm_server.delay_s = 1.5
    try:
        r = await gateway.get(
            "/nlp/v1/persona/summary", headers=t.headers, params={"persona": "COO"}
        )
    finally:
        llm_server.delay_s = 0.0
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "offline" and body["fallback"] == "the LLM failed (transient)"
    assert body["demo"] is True and body["points"]  # demo content, still marked
    assert len(llm_server.requests) == before + 5

    counted = await usage(gateway, t)
    assert counted["calls"] == 5  # every request the server saw
    assert counted["errors"] == 4  # the 503 and the three timeouts
    assert counted["input_tokens"] == PROMPT_TOKENS  # one answered request
    assert counted["model"] == "test-llm"


async def test_non_transient_failures_are_not_retried(
    gateway: httpx.AsyncClient, llm_server: OpenAIServer
) -> None:
    t = await register(gateway, "nonretry")
    before = len(llm_server.requests)
    llm_server.failures = [401]
    r = await gateway.get("/nlp/v1/persona/summary", headers=t.headers, params={"persona": "CRO"})
    assert r.status_code == 200, r.text
    assert r.json()["fallback"] == "the LLM failed (configuration)"
    assert len(llm_server.requests) == before + 1


def test_backend_selection(tmp_path: Path) -> None:
    from autonomos.models.guard import GuardedLLM, build_llm
    from autonomos.models.llm import OfflineLLM, OpenAICompatibleLLM

    offline = build_llm(make_settings(tmp_path / "a"), redact=str.upper)
    assert isinstance(offline, GuardedLLM) and isinstance(offline.inner, OfflineLLM)
    assert offline.redact is None  # nothing leaves the process
    remote = build_llm(
        make_settings(tmp_path / "b", llm_model="m", llm_base_url="http://127.0.0.1:9/v1"),
        redact=str.upper,
    )
    assert isinstance(remote, GuardedLLM) and isinstance(remote.inner, OpenAICompatibleLLM)
    assert remote.redact is str.upper and remote.inner.model == "m"
    assert remote.inner._client.max_retries == 0  # the guard retries, not the client
    assert build_llm(make_settings(tmp_path / "c", llm_backend="none")) is None
