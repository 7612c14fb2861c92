"""The knowledge base on Postgres + pgvector: migrations with the extension, HNSW search
filtered to the tenant that still returns k results, isolation through the store and
RLS, and the same answers as the FAISS store."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from autonomos.models.embedder import LocalEmbedder
from autonomos.models.telemetry import UsageRecorder
from autonomos.nlp.kb import FaissVectors, KnowledgeBase, NewDocument, PgVectors
from autonomos.nlp.kb.build import build_knowledge_base
from autonomos.store import migrate
from autonomos.store.session import Database, make_engine
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder(recorder=UsageRecorder())


@pytest.fixture(scope="module")
def migrated(pgvector_urls: tuple[str, str]) -> tuple[str, str]:
    owner, app = pgvector_urls
    migrate.upgrade(owner, "head", app)
    return owner, app


async def _columns(url: str) -> tuple[set[str], set[str]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: (
                    {col["name"] for col in inspect(c).get_columns("kb_chunks")},
                    {ix["name"] for ix in inspect(c).get_indexes("kb_chunks")},
                )
            )
    finally:
        await engine.dispose()


async def test_migration_adds_vector_column_and_hnsw(migrated: tuple[str, str]) -> None:
    owner, _ = migrated
    cols, indexes = await _columns(owner)
    assert "embedding_vec" in cols and "ix_kb_chunks_embedding_hnsw" in indexes
    engine = make_engine(owner)
    async with engine.connect() as conn:
        version = await conn.scalar(
            text("SELECT extversion FROM pg_extension WHERE extname='vector'")
        )
    await engine.dispose()
    assert tuple(int(x) for x in version.split(".")[:2]) >= (0, 8)


def test_up_down_up_with_pgvector(pgvector_urls: tuple[str, str]) -> None:
    owner, _ = pgvector_urls
    name = f"kb_mig_{uuid.uuid4().hex[:6]}"
    base, query = owner.split("?", 1)
    admin = base.rsplit("/", 1)[0] + "/postgres?" + query

    async def sql(url: str, stmt: str) -> None:
        engine = make_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(stmt))
        await engine.dispose()

    asyncio.run(sql(admin, f"CREATE DATABASE {name}"))
    url = base.rsplit("/", 1)[0] + f"/{name}?" + query
    migrate.upgrade(url)
    assert "embedding_vec" in asyncio.run(_columns(url))[0]
    migrate.downgrade(url, "0007_llm_usage")
    migrate.upgrade(url)
    assert "embedding_vec" in asyncio.run(_columns(url))[0]
    asyncio.run(sql(admin, f"DROP DATABASE {name} WITH (FORCE)"))


async def test_tenant_filtered_search_returns_k_and_never_another_tenant(
    migrated: tuple[str, str], pgvector_hnsw: object, embedder: LocalEmbedder, tmp_path: Path
) -> None:
    owner, app = migrated
    settings = make_settings(tmp_path, database_url=app, migration_database_url=owner)
    db = Database(settings.app_database_url)
    try:
        kb = await build_knowledge_base(settings, db, embedder)
        assert isinstance(kb.vectors, PgVectors)
        big, small = uuid.uuid4(), uuid.uuid4()
        # The big tenant's documents are all close to the query; the small tenant's are not.
        await kb.add_documents(
            big,
            [
                NewDocument(
                    f"Invoice {i} for cloud storage was paid late.".encode(), title=f"big {i}"
                )
                for i in range(200)
            ],
            redact=False,
        )
        await kb.add_documents(
            small,
            [
                NewDocument(
                    f"Recipe {i}: bake the bread for {20 + i} minutes.".encode(), title=f"small {i}"
                )
                for i in range(30)
            ],
            redact=False,
        )
        hits = await kb.search(small, "late invoice for cloud storage", k=25, mode="dense")
        assert len(hits) == 25
        assert all((h.title or "").startswith("small") for h in hits)
        # Row-level security alone (no tenant predicate) also hides the big tenant's rows.
        async with db.tenant_session(small) as session:
            seen = await session.scalar(text("SELECT count(*) FROM kb_chunks"))
        assert seen == 30

        # Same answers as FAISS over the same rows (exact search on a small tenant).
        faiss_kb = KnowledgeBase(db, embedder, vectors=FaissVectors(), config=kb.config)
        for q in ("bread baking time", "twenty minutes in the oven"):
            pg = [h.document_id for h in await kb.search(small, q, k=5, mode="dense")]
            fa = [h.document_id for h in await faiss_kb.search(small, q, k=5, mode="dense")]
            assert pg == fa
        hybrid = await kb.search(small, "bake bread 25 minutes", k=3)
        assert hybrid[0].bm25 is not None and hybrid[0].dense is not None
        doc = hybrid[0].document_id
        await kb.delete_document(small, doc)
        assert doc not in {h.document_id for h in await kb.search(small, "bake bread", k=30)}
    finally:
        await db.dispose()
