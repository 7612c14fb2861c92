"""Build the knowledge base a deployment's settings describe (until the composition root
owns this: it is the one place that picks the vector store)."""

from __future__ import annotations

from autonomos.config import Settings
from autonomos.models.embedder import Embedder
from autonomos.nlp.kb.service import KBConfig, KnowledgeBase
from autonomos.nlp.kb.vectors import FaissVectors, PgVectors, VectorStore, has_pgvector_column
from autonomos.store.session import Database


def kb_config(settings: Settings) -> KBConfig:
    return KBConfig(
        max_bytes=settings.kb_max_upload_bytes,
        chunk_words=settings.kb_chunk_words,
        chunk_overlap=settings.kb_chunk_overlap,
        default_k=settings.kb_default_k,
        pii_default=settings.kb_pii_redaction,
    )


async def choose_vectors(settings: Settings, db: Database) -> VectorStore:
    """pgvector where enabled and the migration could create its column, else FAISS."""
    if not (settings.kb_pgvector and settings.is_postgres):
        return FaissVectors()
    async with db.global_session() as session:
        return PgVectors() if await has_pgvector_column(session) else FaissVectors()


async def build_knowledge_base(
    settings: Settings, db: Database, embedder: Embedder
) -> KnowledgeBase:
    vectors = await choose_vectors(settings, db)
    return KnowledgeBase(db, embedder, vectors=vectors, config=kb_config(settings))
