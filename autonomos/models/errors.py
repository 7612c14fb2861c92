"""Errors of the models package: one base, and whether retrying can help."""

from __future__ import annotations

from autonomos.common.errors import AutonomosError, FailureType


class ModelError(AutonomosError):
    """Base of every model error. ``failure`` says whether trying again can help:
    ``transient`` (endpoint down, timeout, rate limit), ``terminal`` (this input will fail
    again), ``configuration`` (fix the settings first)."""


class EmbedderError(ModelError):
    """The embedder could not produce vectors (model missing, Serve app not deployed...)."""


class LLMError(ModelError):
    """The LLM endpoint failed or refused the request."""


class LLMOutputError(LLMError):
    """The LLM answered, but not with a JSON object that satisfies the requested schema.

    ``errors`` lists what was wrong; ``output`` is the start of the raw answer (for logs:
    it is model output, never a prompt or a key)."""

    def __init__(self, message: str, errors: list[str], output: str) -> None:
        super().__init__(message, failure=FailureType.TERMINAL)
        self.errors = errors
        self.output = output[:500]


class LLMBudgetExceeded(LLMError):
    """The tenant has used its LLM token budget for the UTC day; nothing was sent.

    Retrying helps only after ``resets_at`` (the next UTC midnight) or once an operator
    raises ``AUTONOMOS_LLM_TENANT_DAILY_TOKENS``."""

    failure = FailureType.CONFIGURATION

    def __init__(self, used: int, limit: int, retry_after_s: int) -> None:
        super().__init__(
            f"this tenant has used {used:,} of its {limit:,} LLM tokens for today (UTC); "
            f"the budget resets in {retry_after_s} s"
        )
        self.used, self.limit, self.retry_after_s = used, limit, retry_after_s

    @property
    def details(self) -> dict[str, int]:
        return {
            "used_tokens": self.used,
            "limit_tokens": self.limit,
            "retry_after_s": self.retry_after_s,
        }
