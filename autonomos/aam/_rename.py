"""Rename candidates: which removed field reappears as which added field, and how sure.

A pair (removed ``old``, added ``new``) is scored from independent signals, each kept as
evidence:

- ``name``: character and token similarity of the two dotted paths;
- ``pattern``: what the two paths say happened. Only structural patterns are trusted
  highly: the same tokens under other separators (``a_b`` <-> ``a.b``, flattened columns
  nested), the same words joined differently (``user_name`` <-> ``username``), an
  envelope level added or removed (``x.data.id`` <-> ``x.id``), a one-letter typo fixed;
- ``type``: compatibility of the two types (incompatible types are never a rename;
  scalar <-> object/array is a change of meaning, not of name);
- ``description``: similarity of the descriptions, when both sides have one;
- ``position``: closeness of the two fields' relative positions in their schemas.

Traps real APIs contain are recognised from general language, not from lists of fields:

- inverted booleans (``deactivated`` -> ``is_active``, ``enabled`` -> ``disabled``): a
  rename only together with an inverting transform (``not``), and never confident;
- qualifiers that change meaning (``charges`` -> ``latest_charge``, ``email`` ->
  ``primary_email``): a replacement, not a rename, so the pair stays removed + added;
- opposite words of other types (``opened_at`` -> ``closed_at``, ``min_x`` -> ``max_x``)
  and numbered siblings (``line1`` -> ``line2``): never a rename;
- two candidates nearly as good as each other: ambiguous, so not confident.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from autonomos.aam._words import (
    BOOL_PREFIXES,
    NOT_TOKENS,
    QUALIFIERS,
    TYPE_SUFFIXES,
    WRAPPERS,
    abbreviates,
    digits,
    edit_distance,
    inflected,
    opposite,
    typo,
)
from autonomos.aam.type_lattice import type_direction
from autonomos.common.text import name_similarity as _text_similarity
from autonomos.common.text import name_tokens, normalize_name, singular
from autonomos.connectors.schema import FieldType

__all__ = [
    "RENAME_THRESHOLD",
    "SEPARATOR_ONLY",
    "FieldView",
    "RenameCandidate",
    "description_similarity",
    "match_renames",
    "name_similarity",
    "rank_candidates",
    "schema_vocabulary",
    "score_pair",
]

RENAME_THRESHOLD = 0.78  # below this a removed + added pair stays removed + added
SEPARATOR_ONLY = 0.97  # `a_b` <-> `a.b`: flattened columns nested (or the reverse)
_FUZZY_CAP = 0.95
_AMBIGUOUS_MARGIN = 0.03  # a runner-up this close makes a confident pair ambiguous
_AMBIGUOUS_CAP = 0.86

_SEP = re.compile(r"[._]+")
_WORD = re.compile(r"[a-z0-9]+")


# ---------------------------------------------------------------- fields


@dataclass(frozen=True)
class FieldView:
    """What rename scoring knows of one field (``path`` normalised)."""

    path: str
    type: FieldType
    source_type: str | None = None
    description: str | None = None
    position: float = 0.5  # index / (number of fields - 1), 0..1


@dataclass(frozen=True)
class RenameCandidate:
    old: str
    new: str
    confidence: float
    pattern: str  # separator | joined | envelope | move | typo | reordered | plural | ...
    transform: str | None = None  # "not" for an inverted boolean
    signals: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def is_rename(self) -> bool:
        return self.confidence >= RENAME_THRESHOLD


# ---------------------------------------------------------------- words


_tokens = name_tokens


@functools.lru_cache(maxsize=65536)
def _parts(path: str) -> tuple[str, ...]:
    return tuple(normalize_name(path).split("."))


def _ratio(a: str, b: str) -> float:
    """Indel similarity 0..1 (difflib's ratio, computed in C)."""
    return float(fuzz.ratio(a, b)) / 100.0


def name_similarity(old: str, new: str) -> float:
    """0..1: how alike two dotted paths are as text (no judgement of meaning); the same
    words under other separators score :data:`SEPARATOR_ONLY`."""
    if _tokens(old) == _tokens(new) and _tokens(old):
        return SEPARATOR_ONLY
    return min(_text_similarity(old, new) * _FUZZY_CAP, _FUZZY_CAP)


# ---------------------------------------------------------------- token alignment


@dataclass
class _Alignment:
    """How the tokens of two names correspond."""

    kinds: list[str] = field(default_factory=list)  # one per matched non-equal pair
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (old word, new word) of each
    left: list[str] = field(default_factory=list)  # unmatched tokens of old
    right: list[str] = field(default_factory=list)  # unmatched tokens of new
    opposite: bool = False
    numbered: bool = False  # tokens that differ only by their digits
    reordered: bool = False


_RELATIONS = ("plural", "tense", "typo", "abbrev")  # tried in this order


@functools.lru_cache(maxsize=262144)
def _relation(x: str, y: str) -> str | None:
    """How two different words relate: ``opposite``, ``numbered``, one of
    :data:`_RELATIONS` (``typo`` as ``typo1`` / ``typo2``), or None."""
    if opposite(x, y):
        return "opposite"
    if digits(x) != digits(y) and x.rstrip("0123456789") == y.rstrip("0123456789"):
        return "numbered"
    if singular(x) == singular(y):
        return "plural"
    if inflected(x, y):
        return "tense"
    if typo(x, y):
        return f"typo{edit_distance(x, y)}"
    if abbreviates(x, y) or abbreviates(y, x):
        return "abbrev"
    return None


def _align(a: tuple[str, ...], b: tuple[str, ...]) -> _Alignment:
    al = _Alignment()
    left, right = list(a), list(b)
    for t in list(left):  # exact matches first
        if t in right:
            left.remove(t)
            right.remove(t)
    for kind in _RELATIONS:  # then the closest relations first
        for t in list(left):
            hit = next((u for u in right if (_relation(t, u) or "").startswith(kind)), None)
            if hit is not None:
                left.remove(t)
                right.remove(hit)
                al.kinds.append(_relation(t, hit) or kind)
                al.pairs.append((t, hit))
    relations = {_relation(x, y) for x in left for y in right}
    al.opposite = "opposite" in relations or (
        bool(set(left) & NOT_TOKENS) != bool(set(right) & NOT_TOKENS)
    )
    al.numbered = "numbered" in relations
    al.left, al.right = left, right
    if not left and not right and not al.kinds:
        al.reordered = a != b
    return al


def _envelope(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...] | None:
    """The dotted levels (one or two, contiguous) that one path has and the other lacks,
    if that is the only difference: an envelope added or removed around the same value."""
    longer, shorter = (old, new) if len(old) > len(new) else (new, old)
    extra = len(longer) - len(shorter)
    if extra not in (1, 2) or not shorter:
        return None
    for i in range(len(longer) - extra + 1):
        if longer[:i] + longer[i + extra :] == shorter:
            return longer[i : i + extra]
    return None


# ---------------------------------------------------------------- signals


def _type_factor(old: FieldView, new: FieldView) -> float:
    """1.0 same type; lower as the change is less plausible for a renamed field; 0 never."""
    o, n = old.type, new.type
    json_o, json_n = o is FieldType.JSON, n is FieldType.JSON
    if json_o != json_n:
        return 0.75  # a scalar became an object/array (or the reverse): a new shape
    direction = type_direction(o, n)
    if direction == "incompatible":
        return 0.0
    if direction == "narrow":
        return 0.92
    if direction == "widen":
        return 0.96
    src_o, src_n = (old.source_type or "").lower(), (new.source_type or "").lower()
    if src_o and src_n and src_o != src_n:
        return 0.75 if json_o else 0.98  # object <-> array is a new shape
    return 1.0


_STOP = frozenset({"the", "a", "an", "of", "to", "for", "in", "on", "is", "and", "or", "this"})


def _desc_tokens(text: str) -> frozenset[str]:
    return frozenset(singular(w) for w in _WORD.findall(text.lower()) if w not in _STOP)


def description_similarity(a: str | None, b: str | None) -> float | None:
    """Token Dice similarity of two descriptions; None unless both are non-empty."""
    if not a or not b or not a.strip() or not b.strip():
        return None
    ta, tb = _desc_tokens(a), _desc_tokens(b)
    if not ta or not tb:
        return None
    dice = 2 * len(ta & tb) / (len(ta) + len(tb))
    return max(dice, _ratio(a.lower().strip(), b.lower().strip()) if dice > 0.5 else dice)


def _strip_bool_prefix(tokens: tuple[str, ...]) -> tuple[str, ...]:
    return tokens[1:] if len(tokens) > 1 and tokens[0] in BOOL_PREFIXES else tokens


def _parents_alike(pa: tuple[str, ...], pb: tuple[str, ...]) -> bool:
    """Two parent paths that name the same object (``customer_details`` / ``customer``)."""
    al = _align(_tokens(".".join(pa)), _tokens(".".join(pb)))
    extra = set(al.left + al.right)
    return not (al.opposite or al.numbered or extra & QUALIFIERS) and extra <= (
        TYPE_SUFFIXES | WRAPPERS
    )


def _pattern(
    old: FieldView, new: FieldView, name_sim: float, vocab: frozenset[str]
) -> tuple[str, float, str | None]:
    """(pattern, base confidence, transform) from the two paths alone; 0 = never a rename.

    ``vocab``: the words of the old schema, which tell a fixed typo (the new spelling was
    already used elsewhere) from a different word one letter away (contact / contract).
    """
    a, b = _tokens(old.path), _tokens(new.path)
    pa, pb = _parts(old.path), _parts(new.path)
    booleans = old.type is FieldType.BOOLEAN and new.type is FieldType.BOOLEAN
    if a == b:
        return "separator", SEPARATOR_ONLY, None
    if "".join(a) == "".join(b):
        return "joined", 0.95, None
    levels = _envelope(pa, pb)
    if levels is not None:
        words = {t for level in levels for t in _tokens(level)}
        if words & QUALIFIERS:
            return "qualified", 0.55, None
        if all(level in WRAPPERS for level in levels):
            return "envelope", 0.93 if len(levels) == 1 else 0.9, None
        if len(levels) == 2:
            return "envelope", 0.8, None
        # an unknown level: a new parent object (first level), or a sub-object
        return "envelope", 0.84 if levels[0] in (pa[0], pb[0]) else 0.86, None
    if booleans:
        a, b = _strip_bool_prefix(a), _strip_bool_prefix(b)
        if a == b:
            return "bool_prefix", 0.88, None
    al = _align(a, b)
    if al.opposite:
        return ("inverted", 0.8, "not") if booleans else ("opposite", 0.0, None)
    if al.numbered:
        return "numbered", 0.0, None
    if set(al.left + al.right) & QUALIFIERS or _qualifier_swap(al):
        return "qualified", 0.55, None
    if len(pa) > 1 and len(pb) > 1 and pa[-1] == pb[-1] and pa[:-1] != pb[:-1]:
        if _parents_alike(pa[:-1], pb[:-1]):
            parent_sim = 1.0
        else:
            parent_sim = _ratio(".".join(pa[:-1]), ".".join(pb[:-1]))
        return "move", min((0.6 + 0.3 * parent_sim) * _FUZZY_CAP, 0.88), None
    if not al.left and not al.right:
        if al.reordered:
            return "reordered", 0.88, None
        if "plural" in al.kinds:
            return "plural", 0.86, None
        if al.kinds == ["typo1"] and not booleans:
            fixed = al.pairs[0][1]
            return "typo", 0.91 if fixed in vocab else 0.87, None
        return "spelling", 0.86, None
    extra = al.left + al.right
    if al.left and al.right:
        # a word replaced by an unrelated one: only a near-identical spelling is a rename
        return "fuzzy", min(name_sim, 0.86) if name_sim >= 0.88 else name_sim * 0.9, None
    if set(extra) <= TYPE_SUFFIXES and len(extra) == 1:
        return "type_suffix", 0.84, None
    # one name is the other plus words: a narrower or broader fact (statement_descriptor
    # -> statement_descriptor_suffix, name -> full_name), not the same field renamed
    return "extended", 0.6, None


def _qualifier_swap(al: _Alignment) -> bool:
    return any(x in QUALIFIERS or y in QUALIFIERS for x in al.left for y in al.right)


def score_pair(
    old: FieldView, new: FieldView, vocab: frozenset[str] = frozenset()
) -> RenameCandidate:
    """Score ``old`` (removed) reappearing as ``new`` (added); confidence 0 = never.

    ``vocab``: the words of the whole old schema (see :func:`_pattern`)."""
    name_sim = name_similarity(old.path, new.path)
    pattern, base, transform = _pattern(old, new, name_sim, vocab)
    type_f = _type_factor(old, new)
    desc = description_similarity(old.description, new.description)
    position = 1.0 - abs(old.position - new.position)
    conf = base * type_f
    if pattern == "plural" and type_f < 0.8:
        conf = min(conf, 0.55)  # one <-> many: a replacement (charges -> charge)
    if desc is not None and conf > 0:
        if desc >= 0.8:
            conf = min(conf + (1.0 - conf) * 0.4, SEPARATOR_ONLY)
        elif desc < 0.25:
            conf *= 0.85
    if pattern in ("fuzzy", "type_suffix", "spelling", "move"):
        conf *= 0.97 + 0.03 * position
    signals = {"name": round(name_sim, 4), "type": round(type_f, 4), "position": round(position, 4)}
    if desc is not None:
        signals["description"] = round(desc, 4)
    return RenameCandidate(old.path, new.path, round(conf, 4), pattern, transform, signals)


def _description_match(
    old: FieldView, new: FieldView, rivals: Sequence[FieldView]
) -> RenameCandidate | None:
    """A pair whose names differ but whose long, distinctive descriptions agree."""
    desc = description_similarity(old.description, new.description)
    if desc is None or desc < 0.9 or len(_desc_tokens(old.description or "")) < 5:
        return None
    if _type_factor(old, new) < 0.96:
        return None
    if any(
        f.path not in (old.path, new.path)
        and (description_similarity(f.description, old.description) or 0) >= 0.7
        for f in rivals
    ):
        return None  # the description is not distinctive
    position = 1.0 - abs(old.position - new.position)
    conf = round(0.82 * (0.97 + 0.03 * position), 4)
    signals = {
        "name": round(name_similarity(old.path, new.path), 4),
        "type": _type_factor(old, new),
        "position": round(position, 4),
        "description": round(desc, 4),
    }
    return RenameCandidate(old.path, new.path, conf, "description", None, signals)


def _keys(f: FieldView) -> set[str]:
    """Blocking keys: the words of the name (singular), their first four letters."""
    toks = _tokens(f.path)
    return {singular(t) for t in toks} | {t[:4] for t in toks if len(t) >= 4}


def _candidate_pairs(
    removed: Sequence[FieldView], added: Sequence[FieldView]
) -> Iterator[tuple[FieldView, FieldView]]:
    """The pairs worth scoring, found without scoring all of them: pairs that share a
    distinctive word, or are spelled alike (C-speed ratio), or are two booleans (an
    inversion shares no word), or have alike descriptions. Every pattern that can reach
    the rename threshold falls in one of these."""
    if not removed or not added:
        return
    frequent = max(8, len(added) // 10)  # a word most fields have tells nothing
    index: dict[str, list[int]] = {}
    for j, n in enumerate(added):
        for k in _keys(n):
            index.setdefault(k, []).append(j)
    joined = ["".join(_tokens(f.path)) for f in (*removed, *added)]
    similar = process.cdist(
        joined[: len(removed)],
        joined[len(removed) :],
        scorer=fuzz.ratio,
        score_cutoff=40,
        dtype=np.uint8,
    )
    descs_old = [f.description or "" for f in removed]
    descs_new = [f.description or "" for f in added]
    alike = None
    if any(descs_old) and any(descs_new):
        alike = process.cdist(
            descs_old, descs_new, scorer=fuzz.token_set_ratio, score_cutoff=70, dtype=np.uint8
        )
    booleans = [j for j, n in enumerate(added) if n.type is FieldType.BOOLEAN]
    for i, o in enumerate(removed):
        js: set[int] = set(np.flatnonzero(similar[i]).tolist())
        for k in _keys(o):
            hits = index.get(k, ())
            if len(hits) <= frequent:
                js.update(hits)
        if o.type is FieldType.BOOLEAN:
            js.update(booleans)
        if alike is not None and descs_old[i]:
            js.update(np.flatnonzero(alike[i]).tolist())
        for j in sorted(js):
            yield o, added[j]


def rank_candidates(
    old: FieldView, added: Sequence[FieldView], k: int = 3, vocab: frozenset[str] = frozenset()
) -> list[RenameCandidate]:
    """The ``k`` best-scoring added fields for one removed field (evidence, alternatives)."""
    scored = [score_pair(old, n, vocab) for n in added]
    scored.sort(key=lambda c: (-c.confidence, -c.signals.get("name", 0.0), c.new))
    return [c for c in scored if c.confidence > 0][:k]


def _runner_up(values: list[float], own: float) -> float:
    """The best of ``values`` once one occurrence of ``own`` is left out."""
    rest = list(values)
    rest.remove(own)
    return max(rest, default=0.0)


def schema_vocabulary(paths: Iterable[str]) -> frozenset[str]:
    """Every word used in ``paths`` (for :func:`match_renames`' ``vocab``)."""
    return frozenset(t for p in paths for t in _tokens(p))


def match_renames(
    removed: Sequence[FieldView],
    added: Sequence[FieldView],
    vocab: frozenset[str] = frozenset(),
) -> list[RenameCandidate]:
    """One-to-one rename pairs at or above :data:`RENAME_THRESHOLD`, best first.

    Assignment is greedy by confidence (ties: name similarity, then position); a pair
    whose runner-up on either side scores within a small margin is capped below the
    auto-apply range, since the evidence cannot tell the two apart.
    """
    table: dict[tuple[str, str], RenameCandidate] = {}
    rivals = [f for f in (*removed, *added) if f.description]
    for o, n in _candidate_pairs(removed, added):
        c = score_pair(o, n, vocab)
        if not c.is_rename and c.confidence > 0 and c.pattern in ("fuzzy", "extended"):
            c = _description_match(o, n, rivals) or c
        if c.confidence > 0:
            table[(o.path, n.path)] = c
    ranked = sorted(
        table.values(),
        key=lambda c: (-c.confidence, -c.signals["name"], -c.signals["position"], c.old, c.new),
    )
    by_old: dict[str, list[float]] = {}
    by_new: dict[str, list[float]] = {}
    for c in table.values():
        by_old.setdefault(c.old, []).append(c.confidence)
        by_new.setdefault(c.new, []).append(c.confidence)
    used_old: set[str] = set()
    used_new: set[str] = set()
    pairs: list[RenameCandidate] = []
    for c in ranked:
        if not c.is_rename or c.old in used_old or c.new in used_new:
            continue
        used_old.add(c.old)
        used_new.add(c.new)
        runner_up = max(
            _runner_up(by_old[c.old], c.confidence), _runner_up(by_new[c.new], c.confidence)
        )
        if c.confidence >= 0.9 and runner_up >= c.confidence - _AMBIGUOUS_MARGIN:
            c = RenameCandidate(
                c.old,
                c.new,
                min(c.confidence, _AMBIGUOUS_CAP),
                c.pattern,
                c.transform,
                {**c.signals, "runner_up": round(runner_up, 4)},
            )
        pairs.append(c)
    return pairs
