"""The knowledge base service: what the API, the CLI and (later) the ask/persona layer call.

    kb = KnowledgeBase(db, embedder, vectors=FaissVectors(), config=KBConfig())
    doc = await kb.add_document(tenant_id, NewDocument(content=b"...", filename="a.md"))
    hits = await kb.search(tenant_id, "refund policy", k=5, mode="hybrid")

A document is extracted (text, Markdown, PDF), PII-redacted unless the tenant turned it
off, split into overlapping chunks, embedded through the embedder port and stored in one
transaction. Search runs BM25 and/or dense retrieval over chunks, collapses chunks to
their document (a document's score is its best chunk's), and fuses the two rankings with
RRF; each hit carries both retrievers' scores and ranks and the fused score.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.models.embedder import Embedder
from autonomos.nlp.errors import BadQuery, DocumentNotFound
from autonomos.nlp.kb.chunking import chunk_text
from autonomos.nlp.kb.extract import extract
from autonomos.nlp.kb.fusion import rrf
from autonomos.nlp.kb.indexes import IndexCache, TenantIndex
from autonomos.nlp.kb.text import tokenize
from autonomos.nlp.kb.vectors import VectorStore
from autonomos.nlp.pii import Redactor
from autonomos.store.kb_models import KBChunk, KBDocument, KBSettings
from autonomos.store.session import Database

MAX_QUERY_CHARS = 2_000


class SearchMode(enum.StrEnum):
    HYBRID = "hybrid"
    BM25 = "bm25"
    DENSE = "dense"


@dataclass(frozen=True)
class KBConfig:
    max_bytes: int = 10 * 1024 * 1024
    chunk_words: int = 256
    chunk_overlap: int = 32
    default_k: int = 10
    max_k: int = 100
    pii_default: bool = True


@dataclass(frozen=True)
class NewDocument:
    content: bytes
    filename: str | None = None
    media_type: str | None = None
    title: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class Hit:
    document_id: uuid.UUID
    chunk_id: int
    score: float  # the mode's score: fused RRF, BM25 or cosine
    bm25: float | None = None
    bm25_rank: int | None = None
    dense: float | None = None
    dense_rank: int | None = None
    fused: float | None = None
    title: str | None = None
    external_id: str | None = None
    text: str | None = None


@dataclass
class _Prepared:
    doc: NewDocument
    media_type: str
    title: str
    chars: int
    chunks: list[tuple[int, str, int, int]]
    redactions: dict[str, int] = field(default_factory=dict)


class KnowledgeBase:
    def __init__(
        self,
        db: Database,
        embedder: Embedder,
        *,
        vectors: VectorStore,
        config: KBConfig | None = None,
        redactor: Redactor | None = None,
        indexes: IndexCache | None = None,
    ) -> None:
        self.db, self.embedder, self.vectors = db, embedder, vectors
        self.config = config or KBConfig()
        self.redactor = redactor or Redactor()
        self.indexes = indexes or IndexCache(embedder.dim, with_vectors=vectors.in_memory)

    # -- settings ------------------------------------------------------------------

    async def _settings(self, session: AsyncSession) -> KBSettings:
        row = await session.scalar(select(KBSettings))
        if row is None:
            row = KBSettings(pii_redaction=self.config.pii_default, generation=0)
            session.add(row)
            await session.flush()
        return row

    async def pii_redaction(self, tenant_id: uuid.UUID) -> bool:
        async with self.db.tenant_session(tenant_id) as session:
            return (await self._settings(session)).pii_redaction

    async def set_pii_redaction(self, tenant_id: uuid.UUID, on: bool, by: str | None) -> bool:
        """Applies to documents added from now on (indexed text is not re-redacted)."""
        async with self.db.tenant_session(tenant_id) as session:
            row = await self._settings(session)
            row.pii_redaction, row.updated_by = on, by
            return on

    # -- documents ----------------------------------------------------------------

    async def add_document(
        self, tenant_id: uuid.UUID, doc: NewDocument, *, created_by: str | None = None
    ) -> KBDocument:
        return (await self.add_documents(tenant_id, [doc], created_by=created_by))[0]

    async def add_documents(
        self,
        tenant_id: uuid.UUID,
        docs: Sequence[NewDocument],
        *,
        created_by: str | None = None,
        redact: bool | None = None,
    ) -> list[KBDocument]:
        """Index ``docs`` in one transaction (all or none). ``redact`` overrides the
        tenant's PII setting (the CLI's ``--no-redact``)."""
        if redact is None:
            redact = await self.pii_redaction(tenant_id)
        prepared = await asyncio.to_thread(self._prepare_all, docs, redact)
        texts = [c[1] for p in prepared for c in p.chunks]
        vectors = (
            await self.embedder.aencode(texts, tenant_id=tenant_id)
            if texts
            else np.empty((0, self.embedder.dim), dtype=np.float32)
        )
        rows: list[KBDocument] = []
        async with self.db.tenant_session(tenant_id) as session:
            settings = await self._settings(session)
            chunk_rows: list[KBChunk] = []
            v = 0
            for p in prepared:
                digest = hashlib.sha256(p.doc.content).hexdigest()
                row = KBDocument(
                    id=uuid.uuid4(),
                    title=p.title,
                    filename=p.doc.filename,
                    external_id=p.doc.external_id,
                    media_type=p.media_type,
                    size_bytes=len(p.doc.content),
                    sha256=digest,
                    chars=p.chars,
                    chunk_count=len(p.chunks),
                    pii_redacted=redact,
                    redactions=p.redactions,
                    created_by=created_by,
                )
                rows.append(row)
                session.add(row)
                for ordinal, text, start, end in p.chunks:
                    chunk_rows.append(
                        KBChunk(
                            document_id=row.id,
                            ordinal=ordinal,
                            text=text,
                            start_char=start,
                            end_char=end,
                            embedding=vectors[v].tobytes(),
                        )
                    )
                    v += 1
            await session.flush()  # documents first: no relationship() orders the inserts
            session.add_all(chunk_rows)
            await session.flush()
            await self.vectors.write(
                session, [(c.id, vectors[i]) for i, c in enumerate(chunk_rows)]
            )
            await session.execute(
                update(KBSettings)
                .where(KBSettings.id == settings.id)
                .values(generation=KBSettings.generation + 1)
            )
        return rows

    def _prepare_all(self, docs: Sequence[NewDocument], redact: bool) -> list[_Prepared]:
        return [self._prepare(d, redact) for d in docs]

    def _prepare(self, doc: NewDocument, redact: bool) -> _Prepared:
        got = extract(
            doc.content,
            media_type=doc.media_type,
            filename=doc.filename,
            max_bytes=self.config.max_bytes,
        )
        text, counts = got.text, {}
        if redact:
            r = self.redactor.redact(text)
            text, counts = r.redacted, r.counts()
        title = (doc.title or doc.filename or text.split("\n", 1)[0])[:200].strip() or "untitled"
        if doc.title and redact:
            title = self.redactor.redact(title).redacted
        chunks = [
            (c.ordinal, c.text, c.start, c.end)
            for c in chunk_text(text, self.config.chunk_words, self.config.chunk_overlap)
        ]
        return _Prepared(doc, got.media_type, title, len(text), chunks, counts)

    async def list_documents(
        self, tenant_id: uuid.UUID, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[KBDocument], int]:
        async with self.db.tenant_session(tenant_id) as session:
            total = await session.scalar(select(func.count()).select_from(KBDocument))
            docs = await session.scalars(
                select(KBDocument)
                .order_by(KBDocument.created_at.desc(), KBDocument.id)
                .limit(limit)
                .offset(offset)
            )
            return list(docs), int(total or 0)

    async def get_document(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> KBDocument:
        async with self.db.tenant_session(tenant_id) as session:
            doc = await session.get(KBDocument, document_id)
            if doc is None:
                raise DocumentNotFound(document_id)
            return doc

    async def delete_document(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        async with self.db.tenant_session(tenant_id) as session:
            doc = await session.get(KBDocument, document_id)
            if doc is None:
                raise DocumentNotFound(document_id)
            # chunks go by ON DELETE CASCADE on both backends (SQLite: foreign_keys=ON)
            await session.delete(doc)
            settings = await self._settings(session)
            await session.execute(
                update(KBSettings)
                .where(KBSettings.id == settings.id)
                .values(generation=KBSettings.generation + 1)
            )

    # -- search -------------------------------------------------------------------

    def _check(self, query: str, k: int | None) -> int:
        if not query or not query.strip():
            raise BadQuery("query is empty")
        if len(query) > MAX_QUERY_CHARS:
            raise BadQuery(f"query is longer than {MAX_QUERY_CHARS} characters")
        k = self.config.default_k if k is None else k
        if not 1 <= k <= self.config.max_k:
            raise BadQuery(f"k must be between 1 and {self.config.max_k}")
        return k

    async def search(
        self,
        tenant_id: uuid.UUID,
        query: str,
        *,
        k: int | None = None,
        mode: SearchMode | str = SearchMode.HYBRID,
        with_text: bool = True,
    ) -> list[Hit]:
        return (await self.search_many(tenant_id, [query], k=k, mode=mode, with_text=with_text))[0]

    async def search_many(
        self,
        tenant_id: uuid.UUID,
        queries: Sequence[str],
        *,
        k: int | None = None,
        mode: SearchMode | str = SearchMode.HYBRID,
        with_text: bool = True,
    ) -> list[list[Hit]]:
        """Several queries at once (their embeddings in one batch)."""
        try:
            mode = SearchMode(mode)
        except ValueError:
            raise BadQuery("mode must be hybrid, bm25 or dense") from None
        ks = [self._check(q, k) for q in queries]
        qvecs = None
        if mode is not SearchMode.BM25:
            qvecs = await self.embedder.aencode(list(queries), tenant_id=tenant_id)
        out: list[list[Hit]] = []
        async with self.db.tenant_session(tenant_id) as session:
            index = await self.indexes.current(session, tenant_id)
            for n, query in enumerate(queries):
                hits = await self._search_one(
                    session,
                    tenant_id,
                    index,
                    query,
                    None if qvecs is None else qvecs[n],
                    ks[n],
                    mode,
                )
                if with_text and hits:
                    hits = await self._with_text(session, hits)
                out.append(hits)
        return out

    async def _search_one(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        index: TenantIndex,
        query: str,
        qvec: np.ndarray | None,
        k: int,
        mode: SearchMode,
    ) -> list[Hit]:
        # Ask each retriever for more chunks than k so that k documents survive collapsing.
        n_chunks = min(max(4 * k, 50), max(len(index.bm25), 1))
        lexical: list[tuple[uuid.UUID, int, float]] = []
        dense: list[tuple[uuid.UUID, int, float]] = []
        if mode is not SearchMode.DENSE:
            lexical = _collapse(index, index.bm25.search(tokenize(query), n_chunks))
        if qvec is not None:
            found = await self.vectors.search(session, tenant_id, index, qvec, n_chunks)
            dense = _collapse(index, found)
        if mode is SearchMode.BM25:
            return [Hit(d, c, s, bm25=s, bm25_rank=r) for r, (d, c, s) in enumerate(lexical[:k], 1)]
        if mode is SearchMode.DENSE:
            return [Hit(d, c, s, dense=s, dense_rank=r) for r, (d, c, s) in enumerate(dense[:k], 1)]
        fused = rrf({"bm25": [d for d, _, _ in lexical], "dense": [d for d, _, _ in dense]})
        lex = {d: (r, c, s) for r, (d, c, s) in enumerate(lexical, 1)}
        den = {d: (r, c, s) for r, (d, c, s) in enumerate(dense, 1)}
        best = sorted(fused.items(), key=lambda x: (-x[1], str(x[0])))[:k]
        hits = []
        for d, score in best:
            lr, lc, ls = lex.get(d, (None, None, None))
            dr, dc, ds = den.get(d, (None, None, None))
            chunk = dc if dc is not None else lc
            hits.append(Hit(d, int(chunk), score, ls, lr, ds, dr, score))  # type: ignore[arg-type]
        return hits

    async def _with_text(self, session: AsyncSession, hits: list[Hit]) -> list[Hit]:
        chunks = dict(
            (
                await session.execute(
                    select(KBChunk.id, KBChunk.text).where(
                        KBChunk.id.in_([h.chunk_id for h in hits])
                    )
                )
            ).all()
        )
        docs = {
            r[0]: (r[1], r[2])
            for r in (
                await session.execute(
                    select(KBDocument.id, KBDocument.title, KBDocument.external_id).where(
                        KBDocument.id.in_({h.document_id for h in hits})
                    )
                )
            ).all()
        }
        return [
            _replace(
                h,
                title=docs.get(h.document_id, (None, None))[0],
                external_id=docs.get(h.document_id, (None, None))[1],
                text=chunks.get(h.chunk_id),
            )
            for h in hits
            if h.document_id in docs  # deleted since the index was caught up
        ]


def _collapse(
    index: TenantIndex, found: list[tuple[int, float]]
) -> list[tuple[uuid.UUID, int, float]]:
    """Best chunk per document, in the order found (best first)."""
    seen: set[uuid.UUID] = set()
    out = []
    for chunk_id, score in found:
        doc = index.documents.get(chunk_id)
        if doc is None or doc in seen:
            continue
        seen.add(doc)
        out.append((doc, chunk_id, score))
    return out


def _replace(hit: Hit, **changes: object) -> Hit:
    from dataclasses import replace

    return replace(hit, **changes)  # type: ignore[arg-type]
