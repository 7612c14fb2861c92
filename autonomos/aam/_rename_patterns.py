"""What two field names say happened to a field: the structural rename patterns.

A pair (removed ``old``, added ``new``) is classified from the two paths alone: the same
tokens under other separators, the same words joined differently, an envelope level
added or removed, a move to another parent, a plural, a tense, a typo, a reordering, a
representation suffix (``created`` -> ``created_at``), a reference's key as one lookup
value (``OwnerId.Id`` -> ``_ownerid_value``), or one of the traps real APIs
contain, recognised from general language rather than lists of fields:

- inverted booleans (``deactivated`` -> ``is_active``): a rename only with a ``not``;
- qualifiers that change meaning (``email`` -> ``primary_email``): a replacement;
- opposite words (``opened_at`` -> ``closed_at``) and numbered siblings (``line1`` ->
  ``line2``): never a rename.

Each pattern carries a base confidence (what the names alone are worth); the learned
score in :mod:`autonomos.aam._rename` weighs it with the other evidence.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

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
from autonomos.common.text import name_tokens, normalize_name, singular
from autonomos.connectors.schema import FieldType

__all__ = [
    "SEPARATOR_ONLY",
    "FieldView",
    "align",
    "description_similarity",
    "parts",
    "pattern",
    "type_factor",
]

SEPARATOR_ONLY = 0.97  # `a_b` <-> `a.b`: flattened columns nested (or the reverse)
FUZZY_CAP = 0.95
_WORD = re.compile(r"[a-z0-9]+")
_T = FieldType
_EPOCHS = tuple({a, b} for a in (_T.INTEGER, _T.NUMBER) for b in (_T.TIMESTAMP, _T.DATE))
_tokens = name_tokens


@dataclass(frozen=True)
class FieldView:
    """What rename scoring knows of one field (``path`` normalised)."""

    path: str
    type: FieldType
    source_type: str | None = None
    description: str | None = None
    position: float = 0.5  # index / (number of fields - 1), 0..1
    samples: tuple[str, ...] = ()  # a few values, as text, when landed data has them
    # where the field sits among the fields both versions keep: the nearest kept field
    # before and after it ("" at either end); None when the other version is not known
    gap: tuple[str, str] | None = None


@functools.lru_cache(maxsize=65536)
def parts(path: str) -> tuple[str, ...]:
    return tuple(normalize_name(path).split("."))


def ratio(a: str, b: str) -> float:
    """Indel similarity 0..1 (difflib's ratio, computed in C)."""
    return float(fuzz.ratio(a, b)) / 100.0


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


def align(a: tuple[str, ...], b: tuple[str, ...]) -> _Alignment:
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


def envelope(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...] | None:
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


def type_factor(old: FieldView, new: FieldView) -> float:
    """1.0 same type; lower as the change is less plausible for a renamed field; 0 never."""
    o, n = old.type, new.type
    json_o, json_n = o is FieldType.JSON, n is FieldType.JSON
    if json_o != json_n:
        if _scalar_union(old if json_o else new) or _union_holds(
            old if json_o else new, new if json_o else old
        ):
            return 0.92  # integer|string -> string, string|object -> string: narrowed to one
        return 0.75  # a scalar became an object/array (or the reverse): a new shape
    direction = type_direction(o, n)
    if {o, n} in _EPOCHS:
        return 0.85  # epoch numbers became timestamps (or the reverse): the same instant
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


_SCALARS = frozenset(
    {"string", "integer", "number", "boolean", "null", "date", "date-time", "datetime", "time"}
)


def _union_holds(union: FieldView, scalar: FieldView) -> bool:
    """A declared union (``string|object``) one of whose members is the other field's
    scalar type: the value was already that scalar some of the time."""
    names = {t.strip().lower() for t in (union.source_type or "").split("|")}
    return "|" in (union.source_type or "") and scalar.type.value in names


def _scalar_union(f: FieldView) -> bool:
    """A declared union of scalar types only (``integer|string``), not an object."""
    names = {t.strip().lower() for t in (f.source_type or "").split("|")}
    return "|" in (f.source_type or "") and names <= _SCALARS


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
    return max(dice, ratio(a.lower().strip(), b.lower().strip()) if dice > 0.5 else dice)


def _strip_bool_prefix(tokens: tuple[str, ...]) -> tuple[str, ...]:
    return tokens[1:] if len(tokens) > 1 and tokens[0] in BOOL_PREFIXES else tokens


def _parents_alike(pa: tuple[str, ...], pb: tuple[str, ...]) -> bool:
    """Two parent paths that name the same object (``customer_details`` / ``customer``)."""
    al = align(_tokens(".".join(pa)), _tokens(".".join(pb)))
    extra = set(al.left + al.right)
    return not (al.opposite or al.numbered or extra & QUALIFIERS) and extra <= (
        TYPE_SUFFIXES | WRAPPERS
    )


def pattern(
    old: FieldView, new: FieldView, name_sim: float, vocab: frozenset[str]
) -> tuple[str, float, str | None]:
    """(pattern, base confidence, transform) from the two paths alone; 0 = never a rename.

    ``vocab``: the words of the old schema, which tell a fixed typo (the new spelling was
    already used elsewhere) from a different word one letter away (contact / contract).
    """
    a, b = _tokens(old.path), _tokens(new.path)
    pa, pb = parts(old.path), parts(new.path)
    booleans = old.type is FieldType.BOOLEAN and new.type is FieldType.BOOLEAN
    if a == b:
        return "separator", SEPARATOR_ONLY, None
    if "".join(a) == "".join(b):
        return "joined", 0.95, None
    levels = envelope(pa, pb)
    if levels is not None:
        words = {t for level in levels for t in _tokens(level)}
        leaf = _tokens(min(pa, pb, key=len)[-1])
        if len(levels) == 1 and len(leaf) > 1 and all(_said(w, leaf) for w in words):
            # the new parent repeats the leaf's own word (archived_at -> archived.archived_at):
            # fields gathered under their common word; the level adds no meaning
            return "envelope", 0.9, None
        if words & QUALIFIERS:
            return "qualified", 0.55, None
        if all(level in WRAPPERS for level in levels):
            return "envelope", 0.93 if len(levels) == 1 else 0.9, None
        if len(levels) == 2:
            return "envelope", 0.8, None
        # an unknown level: a new parent object (first level), or a sub-object
        return "envelope", 0.84 if levels[0] in (pa[0], pb[0]) else 0.86, None
    unwrapped = _unwrap(pa), _unwrap(pb)
    if unwrapped != (pa, pb) and "".join(_tokens(".".join(unwrapped[0]))) == "".join(
        _tokens(".".join(unwrapped[1]))
    ):
        return "envelope", 0.9, None  # StateCode.Value -> statecode: unwrapped and joined
    if _lookup(pa, pb) or _lookup(pb, pa):
        return "lookup", 0.88, None  # OwnerId.Id -> _ownerid_value: a reference's key
    if booleans:
        a, b = _strip_bool_prefix(a), _strip_bool_prefix(b)
        if a == b:
            return "bool_prefix", 0.88, None
    al = align(a, b)
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
            parent_sim = ratio(".".join(pa[:-1]), ".".join(pb[:-1]))
        return "move", min((0.6 + 0.3 * parent_sim) * FUZZY_CAP, 0.88), None
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


def _unwrap(levels: tuple[str, ...]) -> tuple[str, ...]:
    """A path without its trailing envelope levels (``revenue.value`` -> ``revenue``)."""
    while len(levels) > 1 and levels[-1] in WRAPPERS:
        levels = levels[:-1]
    return levels


def _lookup(obj: tuple[str, ...], flat: tuple[str, ...]) -> bool:
    """``obj`` is a referenced object's identifier (``owner_id.id``, ``owner.id``) and
    ``flat`` the same reference as one scalar, named by the object (``ownerid_value``,
    ``owner_value``, ``owner``): OData's ``_x_value`` lookups, expandable references."""
    if len(obj) < 2 or obj[-1] != "id" or len(flat) != len(obj) - 1 or flat[:-1] != obj[:-2]:
        return False
    ref = "".join(_tokens(obj[-2]))
    got = "".join(t for t in _tokens(flat[-1]) if t not in WRAPPERS)
    return bool(got) and (got in (ref, ref + "id") or (ref.endswith("id") and got == ref[:-2]))


def _qualifier_swap(al: _Alignment) -> bool:
    return any(x in QUALIFIERS or y in QUALIFIERS for x in al.left for y in al.right)


def _said(word: str, tokens: tuple[str, ...]) -> bool:
    """``word`` is one of ``tokens``, or one of them in another form (plural, tense)."""
    return any(word == t or singular(word) == singular(t) or inflected(word, t) for t in tokens)
