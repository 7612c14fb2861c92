"""Per-tenant search indexes in this process, derived from SQL and caught up on demand.

Each tenant's BM25 index (and, with the FAISS store, its vector index) lives in memory,
built from the tenant's ``kb_chunks`` rows. Every write bumps
``kb_settings.generation``; before a search the cache compares it with the generation it
last applied and, when behind, diffs chunk ids with SQL: new chunks are added, vanished
ones removed. Updates are therefore incremental (a new document costs its own chunks),
and any process or replica that wrote them is seen. Tenants are evicted least recently
used beyond ``max_tenants``; an evicted tenant is rebuilt from SQL on its next search.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

import faiss
import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.nlp.kb.bm25 import BM25Index
from autonomos.nlp.kb.text import tokenize
from autonomos.store.kb_models import KBChunk, KBSettings

_FETCH = 1_000


@dataclass
class TenantIndex:
    dim: int
    with_vectors: bool
    generation: int = -1
    bm25: BM25Index = field(default_factory=BM25Index)
    documents: dict[int, uuid.UUID] = field(default_factory=dict)  # chunk id -> document
    vectors: faiss.IndexIDMap2 | None = None

    def __post_init__(self) -> None:
        if self.with_vectors:
            self.vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def add(self, rows: list[tuple[int, uuid.UUID, str, bytes | None]]) -> None:
        ids, vecs = [], []
        for chunk_id, document_id, text, embedding in rows:
            self.bm25.add(chunk_id, tokenize(text))
            self.documents[chunk_id] = document_id
            if self.vectors is not None and embedding is not None:
                ids.append(chunk_id)
                vecs.append(np.frombuffer(embedding, dtype=np.float32))
        if ids and self.vectors is not None:
            self.vectors.add_with_ids(np.vstack(vecs), np.asarray(ids, dtype=np.int64))

    def remove(self, chunk_ids: set[int]) -> None:
        for chunk_id in chunk_ids:
            self.bm25.remove(chunk_id)
            self.documents.pop(chunk_id, None)
        if chunk_ids and self.vectors is not None:
            self.vectors.remove_ids(np.fromiter(chunk_ids, dtype=np.int64))  # type: ignore[arg-type]

    def dense(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.vectors is None or self.vectors.ntotal == 0:
            return []
        scores, ids = self.vectors.search(query.reshape(1, -1).astype(np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


async def generation(session: AsyncSession) -> int:
    value = await session.scalar(select(KBSettings.generation))
    return int(value or 0)


class IndexCache:
    def __init__(self, dim: int, *, with_vectors: bool, max_tenants: int = 64) -> None:
        self.dim, self.with_vectors, self.max_tenants = dim, with_vectors, max_tenants
        self._indexes: OrderedDict[uuid.UUID, TenantIndex] = OrderedDict()
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    async def current(self, session: AsyncSession, tenant_id: uuid.UUID) -> TenantIndex:
        """The tenant's index, caught up with SQL as seen by ``session`` (a session of
        that tenant)."""
        gen = await generation(session)
        index = self._indexes.get(tenant_id)
        if index is not None and index.generation == gen:
            self._indexes.move_to_end(tenant_id)
            return index
        lock = self._locks.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            index = self._indexes.get(tenant_id)
            if index is None:
                index = TenantIndex(self.dim, self.with_vectors)
                self._indexes[tenant_id] = index
                while len(self._indexes) > self.max_tenants:
                    evicted, _ = self._indexes.popitem(last=False)
                    self._locks.pop(evicted, None)
            if index.generation != gen:
                await self._catch_up(session, index)
                index.generation = gen
            self._indexes.move_to_end(tenant_id)
            return index

    async def _catch_up(self, session: AsyncSession, index: TenantIndex) -> None:
        ids = set((await session.scalars(select(KBChunk.id))).all())
        index.remove(set(index.documents) - ids)
        new = sorted(ids - set(index.documents))
        columns = [KBChunk.id, KBChunk.document_id, KBChunk.text]
        columns.append(KBChunk.embedding if self.with_vectors else KBChunk.id)
        for i in range(0, len(new), _FETCH):
            rows = (
                await session.execute(select(*columns).where(KBChunk.id.in_(new[i : i + _FETCH])))
            ).all()
            index.add(
                [(r[0], r[1], r[2], r[3] if self.with_vectors else None) for r in rows]  # type: ignore[misc]
            )

    def forget(self, tenant_id: uuid.UUID) -> None:
        self._indexes.pop(tenant_id, None)
