"""Which persona a free question is for, with the router's confidence.

Two models over a small labelled set shipped with the package (``routing_set.jsonl``,
30 questions per persona, written for this purpose; the persona descriptions count as
examples too):

- :class:`LexicalRouter`: multinomial naive Bayes over stemmed words and word pairs
  (the knowledge base's tokenizer), Laplace-smoothed; no model to load.
- :class:`EmbeddingRouter`: cosine to each persona's centroid of example embeddings
  (the platform's embedder), softmax with a fixed scale.

``HybridRouter`` averages their probabilities. :func:`cross_validate` measures any of them
(stratified k-fold); ``benchmarks/persona_routing.py`` prints the numbers and
README.md records them. Confidences are the models' probabilities (a sharpening
``temperature`` for naive Bayes, whose raw posteriors are overconfident), so a question
about nothing in particular answers near 0.25.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

import numpy as np

from autonomos.nlp.kb.text import tokenize
from autonomos.nlp.personas.catalog import SPECS, Persona

PERSONAS: tuple[Persona, ...] = tuple(Persona)
Example = tuple[str, Persona]


@dataclass(frozen=True, slots=True)
class Routing:
    persona: Persona
    confidence: float
    scores: dict[str, float]
    router: str


class Router(Protocol):
    name: str

    def route(self, question: str) -> Routing: ...


def load_examples() -> list[Example]:
    """The labelled questions shipped with the package."""
    text = resources.files("autonomos.nlp.personas").joinpath("routing_set.jsonl").read_text()
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [(r["q"], Persona(r["persona"])) for r in rows]


def _descriptions() -> list[Example]:
    return [(f"{s.focus}. {s.system.split('Use only')[0]}", p) for p, s in SPECS.items()]


def _routing(probs: np.ndarray, router: str) -> Routing:
    best = int(np.argmax(probs))
    scores = {p.value: round(float(x), 4) for p, x in zip(PERSONAS, probs, strict=True)}
    return Routing(PERSONAS[best], round(float(probs[best]), 4), scores, router)


def _features(text: str) -> list[str]:
    stems = tokenize(text)
    return stems + [f"{a}_{b}" for a, b in itertools.pairwise(stems)]


class LexicalRouter:
    name = "lexical"

    def __init__(
        self, examples: Sequence[Example], *, alpha: float = 0.3, temperature: float = 2.0
    ) -> None:
        data = [*examples, *_descriptions()]
        self.alpha, self.temperature = alpha, temperature
        counts = {p: Counter[str]() for p in PERSONAS}
        docs = Counter(p for _, p in data)
        for text, persona in data:
            counts[persona].update(_features(text))
        self.vocab = set().union(*counts.values())
        size = len(self.vocab)
        self.log_prior = {
            p: math.log((docs[p] + 1) / (len(data) + len(PERSONAS))) for p in PERSONAS
        }
        self.log_like: dict[Persona, dict[str, float]] = {}
        self.log_unseen: dict[Persona, float] = {}
        for p in PERSONAS:
            total = sum(counts[p].values()) + alpha * size
            self.log_like[p] = {w: math.log((c + alpha) / total) for w, c in counts[p].items()}
            self.log_unseen[p] = math.log(alpha / total)

    def probabilities(self, question: str) -> np.ndarray:
        feats = [f for f in _features(question) if f in self.vocab]
        logits = np.array(
            [
                self.log_prior[p] + sum(self.log_like[p].get(f, self.log_unseen[p]) for f in feats)
                for p in PERSONAS
            ]
        )
        logits = logits / self.temperature
        e = np.exp(logits - logits.max())
        return np.asarray(e / e.sum())

    def route(self, question: str) -> Routing:
        return _routing(self.probabilities(question), self.name)


Encode = Callable[[list[str]], np.ndarray]


class EmbeddingRouter:
    name = "embedding"

    def __init__(self, examples: Sequence[Example], encode: Encode, *, scale: float = 30.0) -> None:
        data = [*examples, *_descriptions()]
        self.encode, self.scale = encode, scale
        vectors = encode([t for t, _ in data])
        centroids = []
        for p in PERSONAS:
            c = vectors[[i for i, (_, q) in enumerate(data) if q == p]].mean(axis=0)
            centroids.append(c / (np.linalg.norm(c) or 1.0))
        self.centroids = np.stack(centroids)

    def probabilities(self, question: str) -> np.ndarray:
        v = self.encode([question])[0]
        logits = self.scale * (self.centroids @ v)
        e = np.exp(logits - logits.max())
        return np.asarray(e / e.sum())

    def route(self, question: str) -> Routing:
        return _routing(self.probabilities(question), self.name)


class HybridRouter:
    name = "hybrid"

    def __init__(self, examples: Sequence[Example], encode: Encode) -> None:
        self.lexical = LexicalRouter(examples)
        self.embedding = EmbeddingRouter(examples, encode)

    def probabilities(self, question: str) -> np.ndarray:
        return np.asarray(
            (self.lexical.probabilities(question) + self.embedding.probabilities(question)) / 2
        )

    def route(self, question: str) -> Routing:
        return _routing(self.probabilities(question), self.name)


def cross_validate(
    make: Callable[[list[Example]], Router],
    examples: Sequence[Example],
    *,
    folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Stratified ``folds``-fold accuracy of routers ``make`` trains on the other folds,
    with the mean confidence of right and wrong answers and the expected calibration
    error (10 bins)."""
    rng = random.Random(seed)  # noqa: S311 - fold assignment, not security
    fold_of: dict[int, int] = {}
    for p in PERSONAS:
        idx = [i for i, (_, q) in enumerate(examples) if q == p]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold_of[i] = j % folds
    right: list[float] = []
    wrong: list[float] = []
    per_fold = []
    confusion = {p.value: Counter[str]() for p in PERSONAS}
    for k in range(folds):
        train = [e for i, e in enumerate(examples) if fold_of[i] != k]
        test = [e for i, e in enumerate(examples) if fold_of[i] == k]
        router = make(train)
        hits = 0
        for text, truth in test:
            r = router.route(text)
            confusion[truth.value][r.persona.value] += 1
            (right if r.persona == truth else wrong).append(r.confidence)
            hits += r.persona == truth
        per_fold.append(hits / len(test))
    conf = np.array(right + wrong)
    ok = np.array([1.0] * len(right) + [0.0] * len(wrong))
    ece = 0.0
    for lo in np.linspace(0, 1, 11)[:-1]:
        sel = (conf >= lo) & (conf < lo + 0.1)
        if sel.any():
            ece += sel.mean() * abs(ok[sel].mean() - conf[sel].mean())
    return {
        "accuracy": len(right) / len(examples),
        "per_fold": per_fold,
        "mean_confidence_right": float(np.mean(right)) if right else None,
        "mean_confidence_wrong": float(np.mean(wrong)) if wrong else None,
        "ece": float(ece),
        "confusion": {t: dict(c) for t, c in confusion.items()},
        "n": len(examples),
        "folds": folds,
    }
