"""What every LLM call goes through, whatever the backend: the tenant's daily token
budget, PII redaction of everything that leaves the process, and retries with
exponential backoff of transient failures.

    llm = GuardedLLM(backend, budget=TokenBudget(200_000, recorder), redact=redactor_fn)

- **Budget**: before a call, the tenant's tokens of the UTC day (``UsageRecorder.
  tokens_used``: this process's pending counts plus what the database holds) are
  compared with the limit; at or past it the call is refused with
  :class:`LLMBudgetExceeded` (the API answers 429) and nothing is sent. A call that
  starts under the limit may end a little over it: budgets bound spending per day, not
  per token.
- **Redaction**: ``redact`` (``nlp.pii`` in the composition root) is applied to the
  prompt, the system prompt and every fact before the backend sees them. The
  composition root passes it for remote backends; the offline one sends nothing anywhere.
- **Retries**: a :class:`LLMError` whose failure is transient (timeout, connection, 429,
  5xx) is retried ``retries`` times, waiting ``backoff_s * 2**n`` plus jitter (at most
  :data:`MAX_BACKOFF_S`). The backend's own timeout bounds each attempt; the backend's
  client does not retry by itself (``get_llm(client_retries=0)``), so attempts are not
  multiplied. Each attempt is counted in the telemetry by the backend (an ``error`` when
  it fails).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from autonomos.config import Settings
from autonomos.models.errors import LLMBudgetExceeded, LLMError
from autonomos.models.grounded import GroundedAnswer, GroundedRequest
from autonomos.models.llm import LLM
from autonomos.models.telemetry import UsageRecorder

MAX_BACKOFF_S = 20.0
T = TypeVar("T")


class TokenBudget:
    """A per-tenant daily token limit over the usage telemetry (0: unlimited)."""

    def __init__(self, limit_per_day: int, recorder: UsageRecorder) -> None:
        self.limit = limit_per_day
        self.recorder = recorder

    def check(self, tenant_id: uuid.UUID) -> int:
        """Tokens used today; :class:`LLMBudgetExceeded` when they reach the limit."""
        if self.limit <= 0:
            return 0
        used = self.recorder.tokens_used(tenant_id, "llm")
        if used >= self.limit:
            raise LLMBudgetExceeded(used, self.limit, seconds_to_midnight())
        return used


def seconds_to_midnight(now: datetime | None = None) -> int:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


class GuardedLLM:
    """An :class:`~autonomos.models.llm.LLM` around another, adding budget, redaction and
    retries (see the module docstring)."""

    def __init__(
        self,
        inner: LLM,
        *,
        budget: TokenBudget | None = None,
        redact: Callable[[str], str] | None = None,
        retries: int = 2,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.model = inner.model
        self.budget = budget
        self.redact = redact
        self.retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep

    def complete_json(
        self,
        tenant_id: uuid.UUID | None,
        prompt: str,
        schema: Mapping[str, Any],
        *,
        system: str | None = None,
    ) -> dict[str, Any]:
        self._admit(tenant_id)
        if self.redact is not None:
            prompt = self.redact(prompt)
            system = self.redact(system) if system else system
        extra = {} if system is None else {"system": system}  # older ports lack it
        return self._retrying(lambda: self.inner.complete_json(tenant_id, prompt, schema, **extra))

    def answer(self, tenant_id: uuid.UUID | None, request: GroundedRequest) -> GroundedAnswer:
        self._admit(tenant_id)
        if self.redact is not None:
            request = request.map_text(self.redact)
        return self._retrying(lambda: self.inner.answer(tenant_id, request))

    def _admit(self, tenant_id: uuid.UUID | None) -> None:
        if self.budget is not None and tenant_id is not None:
            self.budget.check(tenant_id)

    def _retrying(self, call: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return call()
            except LLMError as e:
                if not e.retryable or attempt >= self.retries:
                    raise
                wait = min(MAX_BACKOFF_S, self.backoff_s * 2**attempt)
                self._sleep(wait + random.uniform(0, wait / 2))  # noqa: S311 - jitter
                attempt += 1


def build_llm(
    settings: Settings, *, redact: Callable[[str], str] | None = None
) -> GuardedLLM | None:
    """The configured backend behind its guard, or None (``AUTONOMOS_LLM_BACKEND=none``).

    ``redact`` applies to remote backends only: the offline one sends nothing anywhere,
    so its answers keep the names the tenant's own data holds."""
    from autonomos.models.llm import OfflineLLM, get_llm
    from autonomos.models.telemetry import get_recorder

    backend = get_llm(settings, client_retries=0)
    if backend is None:
        return None
    return GuardedLLM(
        backend,
        budget=TokenBudget(settings.llm_tenant_daily_tokens, get_recorder(settings)),
        redact=None if isinstance(backend, OfflineLLM) else redact,
        retries=settings.llm_max_retries,
        backoff_s=settings.llm_retry_backoff_s,
    )
