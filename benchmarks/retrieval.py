"""Hybrid retrieval on BEIR SciFact through the platform's knowledge base, against
baselines computed in the same run, scored by the shipped ``score.py``.

    python benchmarks/retrieval.py [--data DIR] [--out DIR] [--limit N] [--redact]

1. Baseline throughput: all-MiniLM-L6-v2 called directly in this process
   (``SentenceTransformer.encode`` on each document's title + text), no cache.
2. Platform throughput: the same documents through ``KnowledgeBase.add_documents`` into
   a fresh embedded knowledge base (SQLite + FAISS in a temporary data dir, embedder with
   an empty cache): extraction, chunking, embedding, SQL, exactly as ``autonomos kb run``.
3. Quality: nDCG@10 and Recall@100 of the platform in bm25, dense and hybrid modes, and
   of the baselines: rank-bm25 (BM25Okapi on lower-cased whitespace tokens), the direct
   MiniLM cosine over whole documents, and their RRF (k=60).

PII redaction is off by default here: SciFact holds no personal data, and redacting
eponyms ("Cox", "Parkinson") would change what is retrieved; ``--redact`` turns it on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, get_args

import numpy as np

from autonomos.models.embedder import Precision

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval" / "retrieval"
if not EVAL_DIR.exists():
    EVAL_DIR = Path("/work/shared/eval/retrieval")


def _scorer() -> Any:
    spec = importlib.util.spec_from_file_location("retrieval_score", EVAL_DIR / "score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _trec(run: dict[str, list[tuple[str, float]]], tag: str) -> str:
    return "".join(
        f"{qid} Q0 {did} {rank} {score:.6f} {tag}\n"
        for qid, hits in run.items()
        for rank, (did, score) in enumerate(hits, 1)
    )


def _evaluate(scorer: Any, qrels: Any, text: str, out: Path, name: str) -> tuple[float, float]:
    path = out / f"{name}.trec"
    path.write_text(text)
    ndcg, rec, _, _ = scorer.evaluate(scorer.load_run(str(path)), qrels)
    return ndcg, rec


def baselines(
    docs: list[dict[str, Any]],
    queries: list[dict[str, Any]],
    doc_vecs: np.ndarray,
    query_vecs: np.ndarray,
    k: int = 100,
) -> dict[str, dict[str, list[tuple[str, float]]]]:
    from rank_bm25 import BM25Okapi

    ids = [str(d["_id"]) for d in docs]
    bm25 = BM25Okapi([(d["title"] + " " + d["text"]).lower().split() for d in docs])
    runs: dict[str, dict[str, list[tuple[str, float]]]] = {"bm25": {}, "dense": {}, "rrf": {}}
    for qi, q in enumerate(queries):
        s = bm25.get_scores(q["text"].lower().split())
        top = np.argsort(-s)[:k]
        runs["bm25"][q["_id"]] = [(ids[i], float(s[i])) for i in top]
        c = doc_vecs @ query_vecs[qi]
        top_d = np.argsort(-c)[:k]
        runs["dense"][q["_id"]] = [(ids[i], float(c[i])) for i in top_d]
        fused: dict[str, float] = {}
        for ranking in (runs["bm25"][q["_id"]], runs["dense"][q["_id"]]):
            for r, (did, _) in enumerate(ranking, 1):
                fused[did] = fused.get(did, 0.0) + 1 / (60 + r)
        runs["rrf"][q["_id"]] = sorted(fused.items(), key=lambda x: -x[1])[:k]
    return runs


async def platform(
    docs: list[dict[str, Any]],
    queries: list[dict[str, Any]],
    redact: bool,
    data_dir: Path,
    precision: Precision = "auto",
) -> tuple[float, dict[str, dict[str, list[tuple[str, float]]]], dict[str, Any]]:
    from autonomos.config import Settings
    from autonomos.models.embedder import LocalEmbedder
    from autonomos.models.telemetry import UsageRecorder
    from autonomos.nlp.kb.build import build_knowledge_base
    from autonomos.nlp.kb.bulk import index_corpus
    from autonomos.store import migrate
    from autonomos.store.session import Database

    settings = Settings(_env_file=None, data_dir=data_dir, log_level="WARNING")  # type: ignore[call-arg]
    await asyncio.to_thread(
        migrate.upgrade, settings.owner_database_url, "head", settings.app_database_url
    )
    db = Database(settings.app_database_url)
    recorder = UsageRecorder()
    # no cache: every text is computed
    embedder = LocalEmbedder(recorder=recorder, precision=precision)
    embedder.load()
    kb = await build_knowledge_base(settings, db, embedder)
    tenant = uuid.uuid4()
    started = time.perf_counter()
    await index_corpus(kb, tenant, docs, redact)
    took = time.perf_counter() - started
    tokens = sum(u.input_tokens for u in recorder.drain(tenant).values())
    from sqlalchemy import func, select

    from autonomos.store.kb_models import KBChunk, KBDocument

    async with db.tenant_session(tenant) as s:
        ext = dict((await s.execute(select(KBDocument.id, KBDocument.external_id))).all())
        n_chunks = await s.scalar(select(func.count()).select_from(KBChunk))
    runs: dict[str, dict[str, list[tuple[str, float]]]] = {}
    search_s = {}
    for mode in ("bm25", "dense", "hybrid"):
        t = time.perf_counter()
        results = await kb.search_many(
            tenant, [q["text"] for q in queries], k=100, mode=mode, with_text=False
        )
        search_s[mode] = time.perf_counter() - t
        runs[mode] = {
            q["_id"]: [(ext[h.document_id], h.score) for h in hits]
            for q, hits in zip(queries, results, strict=True)
        }
    await db.dispose()
    return (
        took,
        runs,
        {
            "chunks": n_chunks,
            "search_s": search_s,
            "tokens": tokens,
            "precision": embedder.precision,
        },
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=EVAL_DIR / "scifact")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--limit", type=int, default=0, help="first N documents only (a smoke run)")
    ap.add_argument("--redact", action="store_true", help="redact PII before indexing")
    ap.add_argument(
        "--precision",
        choices=get_args(Precision),
        default="auto",
        help="the platform embedder's (AUTONOMOS_EMBEDDER_PRECISION); the direct model is "
        "sentence-transformers' own encode, float32",
    )
    a = ap.parse_args(argv)
    docs = _load(a.data / "corpus.jsonl")
    queries = _load(a.data / "queries.jsonl")
    if a.limit:
        docs = docs[: a.limit]
    out = a.out or Path(tempfile.mkdtemp(prefix="retrieval-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    scorer = _scorer()
    qrels = scorer.load_qrels(str(a.data / "qrels.tsv"))

    from autonomos.models.embedder import LocalEmbedder, token_counts

    direct = LocalEmbedder()
    model = direct.load()
    texts = [d["title"] + " " + d["text"] for d in docs]
    t = time.perf_counter()
    doc_vecs = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    direct_s = time.perf_counter() - t
    direct_tokens = int(token_counts(model, texts).sum())
    query_vecs = model.encode([q["text"] for q in queries], normalize_embeddings=True)
    print(
        f"direct model: {len(docs)} documents in {direct_s:.1f} s "
        f"({len(docs) / direct_s:.1f} docs/s)",
        flush=True,
    )

    with tempfile.TemporaryDirectory(prefix="retrieval-kb-") as tmp:
        took, runs, info = asyncio.run(platform(docs, queries, a.redact, Path(tmp), a.precision))
    print(
        f"platform ({info['precision']}): {len(docs)} documents ({info['chunks']} chunks) "
        f"in {took:.1f} s "
        f"({len(docs) / took:.1f} docs/s) = {direct_s / took:.2f}x the direct model",
        flush=True,
    )
    direct_rate, platform_rate = direct_tokens / direct_s, info["tokens"] / took
    print(
        f"model tokens: direct {direct_tokens} ({direct_rate:.0f}/s; the model truncates each "
        f"document at {model.max_seq_length}), platform {info['tokens']} "
        f"({platform_rate:.0f}/s) = {platform_rate / direct_rate:.2f}x per token",
        flush=True,
    )
    print(
        "search: "
        + ", ".join(
            f"{m} {s / len(queries) * 1000:.1f} ms/query" for m, s in info["search_s"].items()
        )
    )

    base = baselines(docs, queries, doc_vecs, query_vecs)
    rows = []
    for name, run in (
        ("baseline rank-bm25", base["bm25"]),
        ("baseline MiniLM cosine", base["dense"]),
        ("baseline RRF of both", base["rrf"]),
        ("autonomos bm25", runs["bm25"]),
        ("autonomos dense", runs["dense"]),
        ("autonomos hybrid", runs["hybrid"]),
    ):
        ndcg, rec = _evaluate(
            scorer, qrels, _trec(run, name.replace(" ", "-")), out, name.replace(" ", "_")
        )
        rows.append((name, ndcg, rec))
        print(f"{name:<24} nDCG@10 {ndcg:.4f}  Recall@100 {rec:.4f}", flush=True)
    hybrid = rows[-1][1]
    print(
        f"SUMMARY retrieval hybrid_nDCG@10={hybrid:.4f} baseline_rrf={rows[2][1]:.4f} "
        f"indexing_vs_direct={direct_s / took:.2f} docs={len(docs)} runs_in={out}"
    )
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
