"""The guard around every LLM call (budget, redaction, retries) and grounded answers:
the offline backend's composition from facts, a remote answer's citations checked."""

from __future__ import annotations

import socket
import uuid

import pytest

from autonomos.models.errors import LLMBudgetExceeded, LLMError
from autonomos.models.grounded import Fact, GroundedRequest, keep_grounded
from autonomos.models.guard import GuardedLLM, TokenBudget, seconds_to_midnight
from autonomos.models.llm import OfflineLLM, OpenAICompatibleLLM
from autonomos.models.telemetry import UsageRecorder
from autonomos.nlp.pii import Redactor

FACTS = (
    Fact("F1", "Open pipeline is 1,200.00 USD across 3 deals.", "view:opportunity", weight=3),
    Fact("F2", "Slipped deals: 2 deals are past their close date.", "finding:x", "finding", 6),
    Fact("F3", "Win rate is 40% (2 won of 5 closed deals).", "view:opportunity", weight=2),
)
REQUEST = GroundedRequest(
    "You brief the CRO.", "Write the CRO briefing.", FACTS, title="CRO briefing"
)


def test_offline_answer_is_composed_from_the_facts_most_important_first() -> None:
    answer = OfflineLLM(recorder=UsageRecorder()).answer(None, REQUEST)
    assert answer.headline == (
        "CRO briefing: slipped deals: 2 deals are past their close date (1 open finding to review)."
    )
    assert [p.cites for p in answer.points] == [["F2"], ["F1"], ["F3"]]
    assert answer.points[1].text == FACTS[0].statement and answer.model == "offline"
    assert OfflineLLM(recorder=UsageRecorder()).answer(None, REQUEST) == answer
    empty = OfflineLLM(recorder=UsageRecorder()).answer(None, GroundedRequest("s", "i", ()))
    assert empty.points == [] and "no data" in empty.headline


def test_a_models_answer_keeps_only_grounded_points() -> None:
    raw = {
        "headline": "Pipeline is healthy.",
        "points": [
            {"text": "Pipeline 1,200 USD.", "cites": ["[F1]", "F9"]},
            {"text": "Revenue will triple.", "cites": ["F7"]},
            {"text": "Two deals slipped.", "cites": ["F2", "F2"]},
        ],
    }
    answer = keep_grounded(raw, REQUEST, "m")
    assert [(p.text, p.cites) for p in answer.points] == [
        ("Pipeline 1,200 USD.", ["F1"]),
        ("Two deals slipped.", ["F2"]),
    ]


def test_budget_counts_the_tenants_tokens_of_the_day() -> None:
    recorder = UsageRecorder()
    tenant, other = uuid.uuid4(), uuid.uuid4()
    llm = GuardedLLM(OfflineLLM(recorder=recorder), budget=TokenBudget(100, recorder))
    calls = 0
    with pytest.raises(LLMBudgetExceeded) as refused:
        while True:
            llm.answer(tenant, REQUEST)
            calls += 1
    assert calls >= 1 and refused.value.used >= 100 and refused.value.limit == 100
    assert 0 < refused.value.retry_after_s <= 86_400
    assert "resets in" in str(refused.value)
    (usage,) = recorder.pending().values()
    assert usage.calls == calls  # the refused call was not made, nor counted
    llm.answer(other, REQUEST)  # another tenant has its own budget
    unlimited = GuardedLLM(OfflineLLM(recorder=recorder), budget=TokenBudget(0, recorder))
    unlimited.answer(tenant, REQUEST)


def test_seconds_to_midnight() -> None:
    from datetime import UTC, datetime

    assert seconds_to_midnight(datetime(2026, 1, 1, 23, 59, 0, tzinfo=UTC)) == 60


def test_redaction_applies_to_everything_the_backend_gets() -> None:
    redactor = Redactor()
    seen: list[GroundedRequest] = []

    class Spy(OfflineLLM):
        def answer(self, tenant_id, request):  # type: ignore[no-untyped-def]
            seen.append(request)
            return super().answer(tenant_id, request)

    llm = GuardedLLM(Spy(recorder=UsageRecorder()), redact=lambda t: redactor.redact(t).redacted)
    request = GroundedRequest(
        "Brief Ada Lovelace.",
        "Mail ada@example.com?",
        (Fact("F1", "Call +1 415 867 5309 today.", "kb:x"),),
    )
    answer = llm.answer(None, request)
    text = str(seen[0])
    assert "ada@example.com" not in text and "867 5309" not in text and "Lovelace" not in text
    assert "[PHONE]" in answer.points[0].text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_transient_failures_are_retried_with_growing_backoff() -> None:
    recorder = UsageRecorder()
    backend = OpenAICompatibleLLM(
        "m",
        base_url=f"http://127.0.0.1:{_closed_port()}/v1",
        timeout_s=2,
        max_retries=0,
        recorder=recorder,
    )
    waits: list[float] = []
    llm = GuardedLLM(backend, retries=2, backoff_s=0.5, sleep=waits.append)
    tenant = uuid.uuid4()
    with pytest.raises(LLMError) as failed:
        llm.answer(tenant, REQUEST)
    assert failed.value.retryable
    assert len(waits) == 2 and 0.5 <= waits[0] <= 0.75 and 1.0 <= waits[1] <= 1.5
    (usage,) = recorder.pending().values()
    assert (usage.calls, usage.errors) == (3, 3)  # every attempt counted
