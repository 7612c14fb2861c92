"""The content-hash embedding cache: keys, LRU order, the shared disk tier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autonomos.models._cache import EmbeddingCache, content_key


def vec(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(384).astype(np.float32)


def test_key_depends_on_model_and_text() -> None:
    assert content_key("m", "email") == content_key("m", "email")
    assert content_key("m", "email") != content_key("m2", "email")
    assert content_key("m", "email") != content_key("m", "e-mail")
    # no ambiguity between (model, text) splits
    assert content_key("ab", "c") != content_key("a", "bc")


def test_lru_evicts_least_recently_used() -> None:
    cache = EmbeddingCache(max_entries=2)
    cache.put_many({"a": vec(1), "b": vec(2)})
    assert set(cache.get_many(["a"])) == {"a"}  # a is now the most recent
    cache.put_many({"c": vec(3)})
    assert set(cache.get_many(["a", "b", "c"])) == {"a", "c"}
    assert (cache.hits, cache.misses) == (3, 1)


def test_cached_vectors_are_copies_and_read_only() -> None:
    cache = EmbeddingCache(max_entries=10)
    v = vec(1)
    cache.put_many({"a": v})
    v[:] = 0  # the caller's array changing later does not reach the cache
    got = cache.get_many(["a"])["a"]
    assert np.array_equal(got, vec(1))
    with pytest.raises(ValueError):
        got[0] = 1.0


def test_disk_tier_is_shared_and_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "emb" / "cache.sqlite"
    first = EmbeddingCache(max_entries=10, path=path)
    first.put_many({"a": vec(1), "b": vec(2)})
    first.close()
    second = EmbeddingCache(max_entries=10, path=path)  # another process, or a restart
    got = second.get_many(["a", "b", "zzz"])
    assert set(got) == {"a", "b"}
    assert np.array_equal(got["b"], vec(2)) and got["b"].dtype == np.float32
    assert len(second) == 2  # promoted into memory


def test_zero_entries_keeps_nothing_in_memory(tmp_path: Path) -> None:
    cache = EmbeddingCache(max_entries=0, path=tmp_path / "c.sqlite")
    cache.put_many({"a": vec(1)})
    assert len(cache) == 0
    assert set(cache.get_many(["a"])) == {"a"}  # still served from disk


def test_unusable_disk_path_degrades_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = EmbeddingCache(max_entries=4, path=blocker / "cache.sqlite")
    cache.put_many({"a": vec(1)})
    assert set(cache.get_many(["a"])) == {"a"}
