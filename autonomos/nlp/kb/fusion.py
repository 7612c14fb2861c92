"""Reciprocal Rank Fusion (Cormack, Clarke & Büttcher, SIGIR 2009).

``fused(d) = sum over retrievers of 1 / (k + rank_r(d))`` with ranks from 1 and
``k = 60``, the constant of the paper, which found it robust across collections. Ranks,
not scores, are fused, so BM25's unbounded scores and cosine similarities need no
calibration against each other, and no weight is fitted to any collection.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

RRF_K = 60


def rrf(rankings: Mapping[str, Sequence[K]], k: int = RRF_K) -> dict[K, float]:
    """Fused score per item from each retriever's ranking (best first)."""
    fused: dict[K, float] = {}
    for ranking in rankings.values():
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused
