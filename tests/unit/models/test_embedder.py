"""The embedder port around any backend: cache hits, de-duplication, normalisation,
order, telemetry; and the Serve client's request cutting.

The backend here is a deterministic hashing embedder (the real model is exercised in
tests/integration/models; importing it costs ~11 s).
"""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
import uuid

import numpy as np
import pytest

from autonomos.models._cache import EmbeddingCache
from autonomos.models.embedder import (
    EMBEDDING_DIM,
    CachedEmbedder,
    Embedder,
    LocalEmbedder,
)
from autonomos.models.errors import EmbedderError
from autonomos.models.telemetry import UsageRecorder
from autonomos.serve_apps.embedder.client import ServeEmbedder


class HashEmbedder(CachedEmbedder):
    """Unnormalised vectors derived from the text; counts what it is asked to embed."""

    def __init__(self, **kw: object) -> None:
        super().__init__("hash-model", **kw)  # type: ignore[arg-type]
        self.seen: list[str] = []
        self.shape_bug = False

    def _embed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        self.seen.extend(texts)
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            rows.append(np.random.default_rng(seed).standard_normal(EMBEDDING_DIM) * 7.0)
        out = np.asarray(rows, dtype=np.float32)
        return (out[:-1] if self.shape_bug else out), sum(len(t.split()) for t in texts)


def test_it_is_an_embedder() -> None:
    assert isinstance(HashEmbedder(), Embedder)
    assert isinstance(LocalEmbedder(), Embedder)
    assert isinstance(ServeEmbedder(), Embedder)


def test_shape_dtype_and_unit_norm() -> None:
    out = HashEmbedder().encode(["customer email", "invoice total", "close date"])
    assert out.shape == (3, EMBEDDING_DIM) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)


def test_order_kept_and_duplicates_computed_once() -> None:
    emb = HashEmbedder()
    out = emb.encode(["b", "a", "b", "c", "a"])
    assert emb.seen == ["b", "a", "c"]
    assert np.array_equal(out[0], out[2]) and np.array_equal(out[1], out[4])
    assert not np.allclose(out[0], out[1])


def test_cache_hits_cost_nothing() -> None:
    cache = EmbeddingCache(max_entries=100)
    emb = HashEmbedder(cache=cache)
    first = emb.encode(["name", "email", "phone"])
    emb.seen.clear()
    again = emb.encode(["phone", "email", "name", "website"])
    assert emb.seen == ["website"]  # only the new text reached the backend
    assert np.array_equal(again[0], first[2]) and np.array_equal(again[2], first[0])
    assert cache.hits == 3


def test_cache_is_per_model() -> None:
    cache = EmbeddingCache(max_entries=100)
    a, b = HashEmbedder(cache=cache), HashEmbedder(cache=cache)
    b.model_id = "another-model"
    a.encode(["email"])
    b.encode(["email"])
    assert b.seen == ["email"]


def test_empty_and_bad_input() -> None:
    emb = HashEmbedder()
    assert emb.encode([]).shape == (0, EMBEDDING_DIM)
    with pytest.raises(TypeError):
        emb.encode("a single string")
    with pytest.raises(TypeError):
        emb.encode(["ok", 3])  # type: ignore[list-item]


def test_backend_returning_wrong_shape_is_an_error() -> None:
    emb = HashEmbedder()
    emb.shape_bug = True
    with pytest.raises(EmbedderError, match="shape"):
        emb.encode(["a", "b"])


def test_calls_for_a_tenant_are_counted() -> None:
    recorder = UsageRecorder()
    emb = HashEmbedder(cache=EmbeddingCache(max_entries=10), recorder=recorder)
    tenant = uuid.uuid4()
    emb.encode(["one two", "three"], tenant_id=tenant)
    emb.encode(["one two", "four five six"], tenant_id=tenant)
    emb.encode(["not counted"])  # no tenant: an internal call
    [(key, usage)] = recorder.pending().items()
    assert (key.tenant_id, key.kind, key.model) == (tenant, "embedding", "hash-model")
    assert (usage.calls, usage.items, usage.cached, usage.input_tokens) == (2, 4, 1, 6)
    assert usage.latency_ms > 0


def test_aencode_matches_encode() -> None:
    emb = HashEmbedder()
    texts = ["x", "y", "x"]
    assert np.array_equal(asyncio.run(emb.aencode(texts)), HashEmbedder().encode(texts))


def test_serve_client_cuts_sorted_requests_and_restores_order() -> None:
    client = ServeEmbedder(batch_size=3)
    texts = ["ccc", "a", "bbbbb", "dd", "e", "ffff", "gg"]
    order, chunks = client._requests(texts)
    assert [len(c) for c in chunks] == [3, 3, 1]
    flat = [t for c in chunks for t in c]
    assert [len(t) for t in flat] == sorted(len(t) for t in texts)
    # a fake "server" that encodes each text as its index in the original list
    results = [
        (np.array([[texts.index(t)] * 2 for t in c], dtype=np.float32), len(c)) for c in chunks
    ]
    vectors, tokens = client._assemble(order, results)
    assert vectors[:, 0].tolist() == list(range(len(texts)))
    assert tokens == len(texts)


def test_serve_client_refuses_blocking_on_an_event_loop() -> None:
    async def call() -> None:
        ServeEmbedder().encode(["x"])

    with pytest.raises(EmbedderError, match="aencode"):
        asyncio.run(call())


def test_importing_the_port_loads_no_model_library() -> None:
    code = (
        "import sys, autonomos.models as m; m.LocalEmbedder(); "
        "from autonomos.serve_apps.embedder.client import ServeEmbedder; ServeEmbedder(); "
        "heavy = {'torch', 'sentence_transformers', 'transformers', 'openai', 'ray'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
