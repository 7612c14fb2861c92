"""The LLM port: one method, a strict JSON answer, usage counted per tenant.

    llm = get_llm(settings)            # None when no LLM is configured
    if llm is not None:
        answer = llm.complete_json(tid, prompt, {"choice": ["a", "b"], "confidence": "number"})

Backends:

- ``OpenAICompatibleLLM``: any endpoint that speaks OpenAI's chat-completions API
  (OpenAI, vLLM's ``vllm serve``, Ollama, LiteLLM...) through the ``openai`` client,
  with JSON mode on. An answer that is not a JSON object satisfying the schema gets one
  corrective retry quoting what was wrong, then :class:`LLMOutputError`.
- ``OfflineLLM`` (the default): deterministic, no network, no weights. ``complete_json``
  answers the schema's first allowed value for each key (so a re-ranker whose schema
  lists candidates in rank order keeps its own first choice); ``answer`` composes a
  summary from the facts it is given (``grounded.compose_offline``). It reports token
  estimates (four characters a token), so budgets and telemetry behave as with a model.

``answer(tenant_id, GroundedRequest)`` is the call behind persona summaries and questions:
a headline and points, each citing the facts it rests on (``models/grounded.py``).

The vLLM engine on Ray Serve (``serve_apps/llm``, the ``gpu`` extra) is an OpenAI-compatible
endpoint: ``AUTONOMOS_LLM_BASE_URL`` points at it like at any other. What every call
gets around a backend -- the tenant's token budget, PII redaction before text leaves,
retries with backoff -- is ``models/guard.py``; ``runtime.llm()`` builds both.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any, Protocol, cast, runtime_checkable

from autonomos.common.errors import FailureType
from autonomos.config import Settings
from autonomos.models import _jsonschema
from autonomos.models.errors import LLMError, LLMOutputError
from autonomos.models.grounded import (
    ANSWER_SCHEMA,
    GroundedAnswer,
    GroundedRequest,
    compose_offline,
    estimate_tokens,
    keep_grounded,
    render_prompt,
)
from autonomos.models.telemetry import UsageRecorder, get_recorder

SYSTEM_PROMPT = (
    "You answer with exactly one JSON object and nothing else: no prose, no code fence. "
    "It must satisfy this JSON Schema:\n{schema}"
)
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


@runtime_checkable
class LLM(Protocol):
    model: str

    def complete_json(
        self,
        tenant_id: uuid.UUID | None,
        prompt: str,
        schema: Mapping[str, Any],
        *,
        system: str | None = None,
    ) -> dict[str, Any]:
        """A JSON object answering ``prompt`` that satisfies ``schema`` (see
        ``_jsonschema``: JSON Schema subset or ``{key: type}`` shorthand), or
        :class:`LLMOutputError`. ``system`` goes before the JSON instructions. With a
        ``tenant_id`` the call is counted for that tenant."""
        ...

    def answer(self, tenant_id: uuid.UUID | None, request: GroundedRequest) -> GroundedAnswer:
        """A headline and points citing ``request``'s facts (see ``models/grounded.py``)."""
        ...


def parse_json_object(text: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The answer as a dict that satisfies the normalised ``schema``, or LLMOutputError."""
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text.strip()
    try:
        value = json.loads(body)
    except json.JSONDecodeError as e:
        raise LLMOutputError("the LLM answer is not JSON", [f"$: {e.msg}"], text) from None
    if not isinstance(value, dict):
        raise LLMOutputError("the LLM answer is not a JSON object", ["$: not an object"], text)
    errors = _jsonschema.validate(value, schema)
    if errors:
        raise LLMOutputError("the LLM answer does not match the schema", errors, text)
    return value


class OpenAICompatibleLLM:
    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        max_tokens: int | None = None,
        recorder: UsageRecorder | None = None,
    ) -> None:
        from openai import OpenAI  # the client library only; imported where it is used

        self.model = model
        self.recorder = recorder
        self.max_tokens = max_tokens
        # Local servers (vLLM, Ollama) take any key; the client insists on one.
        self._client = OpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def complete_json(
        self,
        tenant_id: uuid.UUID | None,
        prompt: str,
        schema: Mapping[str, Any],
        *,
        system: str | None = None,
    ) -> dict[str, Any]:
        normalized = _jsonschema.normalize(schema)
        instructions = SYSTEM_PROMPT.format(schema=json.dumps(normalized))
        messages: list[dict[str, str]] = [
            {
                "role": "system",
                "content": f"{system}\n\n{instructions}" if system else instructions,
            },
            {"role": "user", "content": prompt},
        ]
        started = time.perf_counter()
        usage = {"input_tokens": 0, "output_tokens": 0}
        ok = False
        try:
            text = self._chat(messages, usage)
            try:
                answer = parse_json_object(text, normalized)
            except LLMOutputError as e:  # one corrective turn, quoting what was wrong
                messages += [
                    {"role": "assistant", "content": text},
                    {
                        "role": "user",
                        "content": "That answer is invalid: "
                        + "; ".join(e.errors[:10])
                        + ". Answer again with only the corrected JSON object.",
                    },
                ]
                answer = parse_json_object(self._chat(messages, usage), normalized)
            ok = True
            return answer
        finally:
            if tenant_id is not None:
                (self.recorder or get_recorder()).record(
                    tenant_id,
                    "llm",
                    self.model,
                    latency_ms=(time.perf_counter() - started) * 1000,
                    error=not ok,
                    input_tokens=usage["input_tokens"],
                    output_tokens=usage["output_tokens"],
                )

    def answer(self, tenant_id: uuid.UUID | None, request: GroundedRequest) -> GroundedAnswer:
        raw = self.complete_json(
            tenant_id, render_prompt(request), ANSWER_SCHEMA, system=request.system
        )
        return keep_grounded(raw, request, self.model)

    def _chat(self, messages: list[dict[str, str]], usage: dict[str, int]) -> str:
        import openai

        extra: dict[str, Any] = {} if self.max_tokens is None else {"max_tokens": self.max_tokens}
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=cast(Any, messages),
                temperature=0,
                response_format={"type": "json_object"},
                **extra,
            )
        except (
            openai.APIConnectionError,  # APITimeoutError included
            openai.RateLimitError,
            openai.InternalServerError,
        ) as e:
            raise LLMError(f"LLM endpoint unavailable: {e}", failure=FailureType.TRANSIENT) from e
        except (
            openai.AuthenticationError,
            openai.PermissionDeniedError,
            openai.NotFoundError,
        ) as e:
            raise LLMError(
                f"LLM endpoint refused the request: {e}", failure=FailureType.CONFIGURATION
            ) from e
        except openai.APIError as e:
            raise LLMError(f"LLM request failed: {e}") from e
        if response.usage is not None:
            usage["input_tokens"] += response.usage.prompt_tokens or 0
            usage["output_tokens"] += response.usage.completion_tokens or 0
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""


class OfflineLLM:
    """Deterministic answers for wiring and tests: no network, no weights, no knowledge."""

    model = "offline"

    def __init__(self, *, recorder: UsageRecorder | None = None) -> None:
        self.recorder = recorder

    def complete_json(
        self,
        tenant_id: uuid.UUID | None,
        prompt: str,
        schema: Mapping[str, Any],
        *,
        system: str | None = None,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        normalized = _jsonschema.normalize(schema)
        answer = _jsonschema.example(normalized)
        text = json.dumps(answer)
        try:
            return parse_json_object(text, normalized)
        finally:
            self._record(tenant_id, started, (system or "") + prompt, text)

    def answer(self, tenant_id: uuid.UUID | None, request: GroundedRequest) -> GroundedAnswer:
        started = time.perf_counter()
        result = compose_offline(request)
        self._record(
            tenant_id,
            started,
            request.system + render_prompt(request),
            result.model_dump_json(),
        )
        return result

    def _record(
        self, tenant_id: uuid.UUID | None, started: float, prompt: str, output: str
    ) -> None:
        if tenant_id is not None:
            (self.recorder or get_recorder()).record(
                tenant_id,
                "llm",
                self.model,
                latency_ms=(time.perf_counter() - started) * 1000,
                input_tokens=estimate_tokens(prompt),
                output_tokens=estimate_tokens(output),
            )


def get_llm(settings: Settings, *, client_retries: int | None = None) -> LLM | None:
    """The configured backend, or None (``AUTONOMOS_LLM_BACKEND``; ``auto`` means OpenAI-
    compatible when ``AUTONOMOS_LLM_MODEL`` is set, else offline). ``client_retries``
    overrides the client's own retries (the guard retries instead)."""
    backend = settings.llm_backend
    if backend == "auto":
        backend = "openai" if settings.llm_model else "offline"
    if backend == "none":
        return None
    recorder = get_recorder(settings)
    if backend == "offline":
        return OfflineLLM(recorder=recorder)
    assert settings.llm_model is not None  # Settings refuses openai without a model
    return OpenAICompatibleLLM(
        settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries if client_retries is None else client_retries,
        max_tokens=settings.llm_max_output_tokens,
        recorder=recorder,
    )
