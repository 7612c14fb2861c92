"""The tenant knowledge base: documents (text, Markdown, PDF) -> redacted, chunked,
embedded passages in SQL; hybrid retrieval (BM25 + vectors, fused with RRF) over them.

Vector search runs on FAISS in each process (embedded default) or on pgvector (Postgres
with the extension); :func:`build_knowledge_base` picks from the settings.
"""

from autonomos.nlp.kb.service import (
    Hit,
    KBConfig,
    KnowledgeBase,
    NewDocument,
    SearchMode,
)
from autonomos.nlp.kb.vectors import FaissVectors, PgVectors, VectorStore

__all__ = [
    "FaissVectors",
    "Hit",
    "KBConfig",
    "KnowledgeBase",
    "NewDocument",
    "PgVectors",
    "SearchMode",
    "VectorStore",
]
