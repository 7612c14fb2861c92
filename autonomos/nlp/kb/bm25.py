"""An Okapi BM25 index kept up to date one chunk at a time.

rank-bm25 rebuilds its whole model from the corpus on every change; a tenant's knowledge
base changes one document at a time, so this index keeps postings (term -> {chunk: tf}),
document lengths and their sum, and computes IDF at query time from the current document
frequencies: adding or removing a chunk costs its own length, never the corpus's.
Scoring touches only the postings of the query's terms.

IDF is Lucene's ``ln(1 + (N - df + 0.5) / (df + 0.5))`` (never negative); ``k1 = 1.2``
and ``b = 0.75`` are Robertson's standard values.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable


class BM25Index:
    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.postings: dict[str, dict[int, int]] = {}
        self.lengths: dict[int, int] = {}
        self.terms: dict[int, tuple[str, ...]] = {}
        self.total_length = 0

    def __len__(self) -> int:
        return len(self.lengths)

    def __contains__(self, item: int) -> bool:
        return item in self.lengths

    def add(self, item: int, tokens: list[str]) -> None:
        if item in self.lengths:
            self.remove(item)
        counts = Counter(tokens)
        for term, tf in counts.items():
            self.postings.setdefault(term, {})[item] = tf
        self.terms[item] = tuple(counts)
        self.lengths[item] = len(tokens)
        self.total_length += len(tokens)

    def remove(self, item: int) -> None:
        length = self.lengths.pop(item, None)
        if length is None:
            return
        self.total_length -= length
        for term in self.terms.pop(item, ()):
            posting = self.postings.get(term)
            if posting is not None:
                posting.pop(item, None)
                if not posting:
                    del self.postings[term]

    def search(self, query: Iterable[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` best items with their scores, best first (ties: smaller id first)."""
        n = len(self.lengths)
        if n == 0 or k <= 0:
            return []
        avg = self.total_length / n or 1.0
        scores: dict[int, float] = {}
        for term, qtf in Counter(query).items():
            posting = self.postings.get(term)
            if not posting:
                continue
            df = len(posting)
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5)) * qtf
            k1, b = self.k1, self.b
            for item, tf in posting.items():
                norm = k1 * (1.0 - b + b * self.lengths[item] / avg)
                scores[item] = scores.get(item, 0.0) + idf * tf * (k1 + 1.0) / (tf + norm)
        return heapq.nsmallest(k, ((i, s) for i, s in scores.items()), key=lambda x: (-x[1], x[0]))
