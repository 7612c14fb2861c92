"""Scoring drift predictions against labelled truth, the way the evaluation's scorer does.

Exact dotted names for added / removed, names only for type changes, exact (old, new)
pairs for renames; rename precision at confidence >= 0.9 (a pair without a confidence
counts as 1.0) and the calibration error of rename confidences, where a predicted pair is
right when it is in the truth.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["CATEGORIES", "rename_reliability", "score_cases"]

CATEGORIES = ("added", "removed", "type_changed", "renamed")


def _items(part: Any, cat: str) -> set[Any]:
    if cat == "renamed":
        return {(str(o), str(n)) for o, n in dict(part or {}).items()}
    if cat == "type_changed":
        return {str(k) for k in (part or {})}
    return {str(x) for x in part or ()}


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else (1.0 if fn == 0 else 0.0)
    r = tp / (tp + fn) if tp + fn else (1.0 if fp == 0 else 0.0)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def rename_pairs(
    cases: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
) -> list[tuple[float, bool]]:
    """(confidence, right?) of every predicted rename."""
    out = []
    for truth, pred in cases:
        right = _items(truth.get("renamed"), "renamed")
        conf = pred.get("rename_confidence") or {}
        for pair in _items(pred.get("renamed"), "renamed"):
            out.append((float(conf.get(pair[0], 1.0)), pair in right))
    return out


def rename_reliability(
    pairs: list[tuple[float, bool]], bins: int = 10
) -> list[tuple[int, float, float]]:
    """(count, mean confidence, accuracy) of each equal-width confidence bin."""
    conf = np.array([c for c, _ in pairs], dtype=float)
    ok = np.array([o for _, o in pairs], dtype=float)
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        sel = idx == b
        n = int(sel.sum())
        out.append((n, float(conf[sel].mean()) if n else 0.0, float(ok[sel].mean()) if n else 0.0))
    return out


def score_cases(cases: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> dict[str, float]:
    """Pooled scores of (truth, prediction) pairs."""
    cases = list(cases)
    out: dict[str, float] = {}
    for cat in CATEGORIES:
        tp = fp = fn = 0
        for truth, pred in cases:
            t, p = _items(truth.get(cat), cat), _items(pred.get(cat), cat)
            tp, fp, fn = tp + len(t & p), fp + len(p - t), fn + len(t - p)
        p_, r_, f_ = _prf(tp, fp, fn)
        key = {"type_changed": "type", "renamed": "rename"}.get(cat, cat)
        out[f"{key}_P"], out[f"{key}_R"], out[f"{key}_F1"] = p_, r_, f_
    pairs = rename_pairs(cases)
    hi = [ok for c, ok in pairs if c >= 0.9]
    out["rename_P@0.9"] = sum(hi) / len(hi) if hi else 0.0
    out["rename_n@0.9"] = float(len(hi))
    out["rename_cover@0.9"] = sum(hi) / max(
        1, sum(len(_items(t.get("renamed"), "renamed")) for t, _ in cases)
    )
    rel = rename_reliability(pairs)
    n = sum(b[0] for b in rel)
    out["rename_ECE"] = sum(k / n * abs(acc - c) for k, c, acc in rel if k) if n else 0.0
    return out
