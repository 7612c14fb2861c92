"""Shared helpers for the matcher's unit tests: a tiny deterministic embedder (the port's
test double: hashed bag of words, no model) and the shipped ontology."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from autonomos.matching.text import split_words
from autonomos.ontology import load_ontology


class HashEmbedder:
    """Unit vectors from hashed words: texts sharing words get similar vectors."""

    dim = 64

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in split_words(t):
                h = int(hashlib.sha1(w.encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
            out[i, 0] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(scope="session")
def ontology():
    return load_ontology()


@pytest.fixture(scope="session")
def lexical_matcher(ontology):
    from autonomos.matching import Matcher

    return Matcher(ontology)
