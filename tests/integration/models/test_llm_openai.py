"""OpenAICompatibleLLM against a real local HTTP server speaking chat completions."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from autonomos.config import Settings
from autonomos.models.errors import LLMError, LLMOutputError
from autonomos.models.llm import OpenAICompatibleLLM, get_llm
from autonomos.models.telemetry import UsageRecorder

KEY = "sk-test-123"
SCHEMA = {"choice": ["account.name", "account.website"], "confidence": "number"}


class ChatServer:
    """Answers each POST /v1/chat/completions with the next scripted (status, content)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, str]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                server.requests.append(body)
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                status, content = server.script.pop(0) if server.script else (200, "{}")
                if self.path != "/v1/chat/completions":
                    status, content = 404, "no such route"
                if status == 200:
                    payload: dict[str, Any] = {
                        "id": f"chatcmpl-{len(server.requests)}",
                        "object": "chat.completion",
                        "created": 1_700_000_000,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": 100 + len(body["messages"]),
                            "completion_tokens": 10,
                            "total_tokens": 110 + len(body["messages"]),
                        },
                    }
                else:
                    payload = {"error": {"message": content, "type": "server_error"}}
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ChatServer]:
    s = ChatServer()
    yield s
    s.close()


def make(server: ChatServer, recorder: UsageRecorder | None = None) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(
        "test-model", base_url=server.url, api_key=KEY, max_retries=0, recorder=recorder
    )


def test_valid_answer_and_the_request_it_sent(server: ChatServer) -> None:
    server.script = [(200, '{"choice": "account.website", "confidence": 0.9}')]
    recorder = UsageRecorder()
    tenant = uuid.uuid4()
    answer = make(server, recorder).complete_json(tenant, "Map `web_url`.", SCHEMA)
    assert answer == {"choice": "account.website", "confidence": 0.9}
    [req] = server.requests
    assert req["model"] == "test-model" and req["temperature"] == 0
    assert req["response_format"] == {"type": "json_object"}
    system, user = req["messages"]
    assert system["role"] == "system" and '"account.website"' in system["content"]
    assert user == {"role": "user", "content": "Map `web_url`."}
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"
    [(key, usage)] = recorder.pending().items()
    assert (key.tenant_id, key.kind, key.model) == (tenant, "llm", "test-model")
    assert (usage.calls, usage.input_tokens, usage.output_tokens, usage.errors) == (1, 102, 10, 0)


def test_fenced_answer_is_accepted(server: ChatServer) -> None:
    server.script = [(200, '```json\n{"choice": "account.name", "confidence": 1}\n```')]
    assert make(server).complete_json(None, "p", SCHEMA)["choice"] == "account.name"


def test_one_corrective_turn_quotes_the_errors(server: ChatServer) -> None:
    server.script = [
        (200, '{"choice": "account.domain", "confidence": 0.7}'),
        (200, '{"choice": "account.website", "confidence": 0.7}'),
    ]
    recorder = UsageRecorder()
    answer = make(server, recorder).complete_json(uuid.uuid4(), "p", SCHEMA)
    assert answer["choice"] == "account.website"
    retry = server.requests[1]["messages"]
    assert retry[2] == {
        "role": "assistant",
        "content": '{"choice": "account.domain", "confidence": 0.7}',
    }
    assert "is not one of" in retry[3]["content"]
    [usage] = recorder.pending().values()
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (1, 102 + 104, 20)


def test_invalid_twice_is_an_output_error_and_counted(server: ChatServer) -> None:
    server.script = [(200, "I think it is the website."), (200, '{"choice": "account.name"}')]
    recorder = UsageRecorder()
    with pytest.raises(LLMOutputError) as e:
        make(server, recorder).complete_json(uuid.uuid4(), "p", SCHEMA)
    assert e.value.errors == ["$: missing required key 'confidence'"]
    assert len(server.requests) == 2
    [usage] = recorder.pending().values()
    assert (usage.calls, usage.errors) == (1, 1)


@pytest.mark.parametrize(
    ("status", "retry"),
    [(401, "configuration"), (404, "configuration"), (500, "transient"), (429, "transient")],
)
def test_endpoint_failures_say_whether_to_retry(
    server: ChatServer, status: int, retry: str
) -> None:
    server.script = [(status, "nope")]
    with pytest.raises(LLMError) as e:
        make(server).complete_json(None, "p", SCHEMA)
    assert not isinstance(e.value, LLMOutputError)
    assert e.value.failure == retry
    assert KEY not in str(e.value)


def test_unreachable_endpoint_is_transient() -> None:
    from tests.conftest import free_port

    llm = OpenAICompatibleLLM(
        "m", base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=0, timeout_s=2
    )
    with pytest.raises(LLMError) as e:
        llm.complete_json(None, "p", SCHEMA)
    assert e.value.failure == "transient"


def test_get_llm_talks_to_the_configured_endpoint(server: ChatServer, tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        llm_base_url=server.url,
        llm_model="served-model",
        llm_api_key=KEY,
        llm_max_retries=0,
    )
    llm = get_llm(settings)
    assert llm is not None
    server.script = [(200, '{"choice": "account.name", "confidence": 0.5}')]
    assert llm.complete_json(None, "p", SCHEMA)["confidence"] == 0.5
    assert server.requests[0]["model"] == "served-model"
