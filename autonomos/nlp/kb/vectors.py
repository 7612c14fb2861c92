"""The vector store port and its two adapters.

- :class:`FaissVectors` (embedded default, and Postgres without pgvector): exact inner
  product over unit vectors (= cosine) in each process's per-tenant FAISS index, derived
  from ``kb_chunks.embedding`` (see :mod:`.indexes`). A tenant's index holds only its own
  chunks, so another tenant's vectors are not even in the search space.
- :class:`PgVectors` (Postgres with pgvector 0.8+): ``kb_chunks.embedding_vec`` with an
  HNSW index, searched in the tenant's transaction (``tenant_id = :tid`` and row-level
  security). Iterative index scans (``hnsw.iterative_scan``) keep scanning the graph
  until ``k`` rows pass the tenant filter, so a small tenant on a big shared index still
  gets ``k`` results instead of the few that happened to be among the first
  ``ef_search`` candidates.
"""

from __future__ import annotations

import uuid
from typing import Protocol

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.nlp.kb.indexes import TenantIndex


class VectorStore(Protocol):
    name: str
    in_memory: bool  # True: vectors live in the per-process TenantIndex

    async def write(self, session: AsyncSession, rows: list[tuple[int, np.ndarray]]) -> None: ...

    async def search(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        index: TenantIndex,
        query: np.ndarray,
        k: int,
    ) -> list[tuple[int, float]]:
        """Up to ``k`` (chunk id, cosine similarity), most similar first."""
        ...


class FaissVectors:
    name = "faiss"
    in_memory = True

    async def write(self, session: AsyncSession, rows: list[tuple[int, np.ndarray]]) -> None:
        return None  # the embedding bytes in kb_chunks are what the index is built from

    async def search(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        index: TenantIndex,
        query: np.ndarray,
        k: int,
    ) -> list[tuple[int, float]]:
        return index.dense(query, k)


def vector_literal(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(v, dtype=np.float32)) + "]"


_SEARCH = text(
    "WITH nearest AS MATERIALIZED ("
    " SELECT id, embedding_vec <=> CAST(:q AS vector) AS distance FROM kb_chunks"
    " WHERE tenant_id = :tid AND embedding_vec IS NOT NULL"
    " ORDER BY distance LIMIT :k)"
    " SELECT id, 1 - distance FROM nearest ORDER BY distance, id"
)
_WRITE = text("UPDATE kb_chunks SET embedding_vec = CAST(:v AS vector) WHERE id = :id")


class PgVectors:
    name = "pgvector"
    in_memory = False

    def __init__(self, ef_search: int = 100, max_scan_tuples: int = 20_000) -> None:
        self.ef_search, self.max_scan_tuples = ef_search, max_scan_tuples

    async def write(self, session: AsyncSession, rows: list[tuple[int, np.ndarray]]) -> None:
        if rows:
            await session.execute(_WRITE, [{"id": i, "v": vector_literal(v)} for i, v in rows])

    async def search(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        index: TenantIndex,
        query: np.ndarray,
        k: int,
    ) -> list[tuple[int, float]]:
        # relaxed_order scans until LIMIT rows pass the filter; the materialised CTE puts
        # them back in exact distance order (pgvector's documented pattern).
        await session.execute(
            text(
                "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),"
                " set_config('hnsw.ef_search', :ef, true),"
                " set_config('hnsw.max_scan_tuples', :mst, true)"
            ),
            {"ef": str(max(self.ef_search, k)), "mst": str(self.max_scan_tuples)},
        )
        rows = await session.execute(
            _SEARCH,
            {"q": vector_literal(query), "tid": tenant_id, "k": k},
        )
        return [(int(i), float(s)) for i, s in rows.all()]


async def has_pgvector_column(session: AsyncSession) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    found = await session.scalar(
        text(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'kb_chunks'"
            " AND column_name = 'embedding_vec'"
        )
    )
    return bool(found)
