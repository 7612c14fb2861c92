"""Name similarity for rename candidates (removed field -> added field)."""

from __future__ import annotations

import functools
import re
from difflib import SequenceMatcher

from autonomos.aam.normalize import normalize_name

_SEP = re.compile(r"[._]+")
SEPARATOR_ONLY = 0.97  # `a_b` <-> `a.b`: flattened columns nested (or the reverse)
_FUZZY_CAP = 0.95  # any other difference never scores above a separator-only change


@functools.lru_cache(maxsize=65536)
def _tokens(path: str) -> tuple[str, ...]:
    return tuple(t for t in _SEP.split(normalize_name(path)) if t)


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _token_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Dice overlap where tokens match when nearly equal (catches typos like wating)."""
    unused = list(b)
    matched = 0
    for t in a:
        best = max(unused, key=lambda u: _ratio(t, u), default=None)
        if best is not None and (best == t or _ratio(t, best) >= 0.8):
            unused.remove(best)
            matched += 1
    return 2 * matched / (len(a) + len(b))


def name_similarity(old: str, new: str) -> float:
    """0..1: how likely ``new`` is ``old`` under another name or parent."""
    a, b = _tokens(old), _tokens(new)
    if not a or not b:
        return 0.0
    if a == b:
        return SEPARATOR_ONLY
    score = 0.5 * _ratio("_".join(a), "_".join(b)) + 0.5 * _token_overlap(a, b)
    old_parts, new_parts = normalize_name(old).split("."), normalize_name(new).split(".")
    if len(old_parts) > 1 and len(new_parts) > 1 and old_parts[-1] == new_parts[-1]:
        # same leaf under another parent: a move; trust it as much as the parents agree
        po, pn = old_parts[:-1], new_parts[:-1]
        shorter = min(len(po), len(pn))
        if po[:shorter] == pn[:shorter]:
            parent_sim = 1.0  # an envelope level was added or removed (x.data.id <-> x.id)
        else:
            parent_sim = _ratio(".".join(po), ".".join(pn))
        score = max(score, 0.6 + 0.3 * parent_sim)
    return min(score * _FUZZY_CAP, _FUZZY_CAP)
