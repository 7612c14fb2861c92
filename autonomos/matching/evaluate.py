"""Scoring suggestions against labelled schemas, the way the evaluation's scorer does.

Pooled (micro) precision, recall and F1 of (source field, target) pairs; pairs labelled as
defensible alternatives (``IGNORE``) count neither way; a target in another entity than the
labelled one is wrong; an object no entity describes has no true pairs, so anything mapped
there is wrong. ``top1``: accuracy of the target on truly mappable fields that were mapped.
``P@0.9`` / ``cover@0.9``: precision of the pairs at confidence >= 0.9, and the share of
true pairs found at that confidence. ``ECE``: expected calibration error over 10 equal
bins; :func:`reliability` gives those bins (count, mean confidence, accuracy).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from autonomos.matching.synth import LabelledSchema

__all__ = ["IGNORE", "Scored", "ece", "reliability", "score", "score_one"]

IGNORE = "?"
HIGH = 0.9


@dataclass
class Scored:
    """Counts of one or more objects; ``pairs`` holds (confidence, correct) per scored pair."""

    n_gold: int = 0
    tp: int = 0
    fp: int = 0
    tp_hi: int = 0
    fp_hi: int = 0
    attempted_gold: int = 0
    correct_gold: int = 0
    objects: int = 0
    entity_right: int = 0
    pairs: list[tuple[float, bool]] = field(default_factory=list)

    def add(self, other: Scored) -> None:
        for name in (
            "n_gold",
            "tp",
            "fp",
            "tp_hi",
            "fp_hi",
            "attempted_gold",
            "correct_gold",
            "objects",
            "entity_right",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.pairs.extend(other.pairs)

    def metrics(self) -> dict[str, float]:
        p = self.tp / max(1, self.tp + self.fp)
        r = self.tp / max(1, self.n_gold)
        conf = np.array([c for c, _ in self.pairs])
        ok = np.array([o for _, o in self.pairs], dtype=float)
        return {
            "P": p,
            "R": r,
            "F1": 2 * p * r / (p + r) if p + r else 0.0,
            "P@0.9": self.tp_hi / max(1, self.tp_hi + self.fp_hi),
            "cover@0.9": self.tp_hi / max(1, self.n_gold),
            "ECE": ece(conf, ok),
            "top1": self.correct_gold / max(1, self.attempted_gold),
            "entity": self.entity_right / max(1, self.objects),
            "n_gold": float(self.n_gold),
            "n_pred": float(self.tp + self.fp),
            "n_hi": float(self.tp_hi + self.fp_hi),
        }


def score_one(
    labelled: LabelledSchema, entity: str | None, mappings: Iterable[tuple[str, str, float]]
) -> Scored:
    """Score one object's prediction: its entity and (source field, "entity.field",
    confidence) triples (unmapped fields are simply absent)."""
    gold = {s: t for s, t in labelled.truth.items() if t != IGNORE}
    neutral = {s for s, t in labelled.truth.items() if t == IGNORE}
    also = labelled.also  # where known, only that target is neutral
    out = Scored(n_gold=len(gold), objects=1, entity_right=int(entity == labelled.entity))
    for source, target, conf in mappings:
        if not target:
            continue
        if source in neutral and also.get(source, target) == target:
            continue  # a defensible alternative: neither right nor wrong
        correct = gold.get(source) == target
        if source in gold:
            out.attempted_gold += 1
            out.correct_gold += correct
        out.pairs.append((float(conf), correct))
        hi = conf >= HIGH
        if correct:
            out.tp += 1
            out.tp_hi += hi
        else:
            out.fp += 1
            out.fp_hi += hi
    return out


def score(
    results: Iterable[tuple[LabelledSchema, str | None, Sequence[tuple[str, str, float]]]],
) -> Scored:
    total = Scored()
    for labelled, entity, mappings in results:
        total.add(score_one(labelled, entity, mappings))
    return total


def ece(conf: np.ndarray, ok: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over ``bins`` equal-width bins."""
    if len(conf) == 0:
        return 0.0
    return sum(n / len(conf) * abs(acc - c) for n, c, acc in reliability(conf, ok, bins) if n)


def reliability(conf: np.ndarray, ok: np.ndarray, bins: int = 10) -> list[tuple[int, float, float]]:
    """(count, mean confidence, accuracy) of each equal-width confidence bin."""
    conf = np.asarray(conf, dtype=float)
    ok = np.asarray(ok, dtype=float)
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        sel = idx == b
        n = int(sel.sum())
        out.append((n, float(conf[sel].mean()) if n else 0.0, float(ok[sel].mean()) if n else 0.0))
    return out
