"""AI model backends behind small ports: the text embedder, the optional LLM, and the
per-tenant usage telemetry of both.

Importing this package is cheap: torch, sentence-transformers and the openai client are
imported only where a backend first needs them.
"""

from autonomos.models.embedder import (
    EMBEDDING_DIM,
    Embedder,
    LocalEmbedder,
)
from autonomos.models.errors import (
    EmbedderError,
    LLMBudgetExceeded,
    LLMError,
    LLMOutputError,
    ModelError,
)
from autonomos.models.grounded import Fact, GroundedAnswer, GroundedRequest
from autonomos.models.guard import GuardedLLM, TokenBudget, build_llm
from autonomos.models.llm import LLM, OfflineLLM, OpenAICompatibleLLM, get_llm
from autonomos.models.telemetry import UsageRecorder, get_recorder

__all__ = [
    "EMBEDDING_DIM",
    "LLM",
    "Embedder",
    "EmbedderError",
    "Fact",
    "GroundedAnswer",
    "GroundedRequest",
    "GuardedLLM",
    "LLMBudgetExceeded",
    "LLMError",
    "LLMOutputError",
    "LocalEmbedder",
    "ModelError",
    "OfflineLLM",
    "OpenAICompatibleLLM",
    "TokenBudget",
    "UsageRecorder",
    "build_llm",
    "get_llm",
    "get_recorder",
]
