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
from autonomos.models.errors import EmbedderError, LLMError, LLMOutputError, ModelError
from autonomos.models.llm import LLM, OfflineLLM, OpenAICompatibleLLM, get_llm
from autonomos.models.telemetry import UsageRecorder, get_recorder

__all__ = [
    "EMBEDDING_DIM",
    "LLM",
    "Embedder",
    "EmbedderError",
    "LLMError",
    "LLMOutputError",
    "LocalEmbedder",
    "ModelError",
    "OfflineLLM",
    "OpenAICompatibleLLM",
    "UsageRecorder",
    "get_llm",
    "get_recorder",
]
