"""The evidence behind a rename score, as numbers a learned model weighs.

For a pair (removed ``old``, added ``new``): what the structural pattern is worth, whether
the two names say the same thing once representation words are set aside (``created_date``
/ ``created_at``, ``modified_date`` / ``updated_at``, ``issued_at`` / ``issue_date``,
``id`` / ``list_id``, ``account_balance`` / ``balance``), type compatibility, position,
descriptions and, when landed data gives samples, how much the values overlap.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from autonomos.aam._rename_patterns import (
    SEPARATOR_ONLY,
    FieldView,
    align,
    description_similarity,
    parts,
    type_factor,
)
from autonomos.aam._words import QUALIFIERS, TYPE_SUFFIXES, WRAPPERS
from autonomos.aam.type_lattice import type_direction
from autonomos.common.text import name_similarity, name_tokens, singular, stem
from autonomos.connectors.schema import FieldType

__all__ = ["RENAME_FEATURES", "core", "features", "id_form"]

RENAME_FEATURES: tuple[str, ...] = (
    "base",  # log-odds of the structural pattern's base confidence
    "structural",  # separator / joined / wrapper envelope: the same name re-spelled
    "respelled",  # the same words, one of them re-spelled (typo, plural, order)
    "name",  # token-sort similarity of the two paths
    "core_same",  # the same words once representation words are set aside
    "temporal_swap",  # ... and one of them differs only by a date/at/time word
    "synonym",  # ... equal only through a synonym (modified / updated)
    "id_form",  # an identifier respelled: id / gid / list_id / vid
    "head_same",  # the last meaningful word is the same (balance / account_balance)
    "extra_words",  # words one name has and the other lacks (0..1)
    "type_same",  # the same declared type
    "type_change",  # widened or narrowed (integer -> string id, date -> timestamp)
    "shape_change",  # scalar <-> object / array, or object <-> array
    "position",  # 1 - distance of the relative positions
    "depth_change",  # change of nesting depth (0..1)
    "description",  # similarity of the descriptions (0 when either lacks one)
    "values",  # overlap of sample values (0 without samples)
    "anchored",  # the same kept fields before and after both (0, 0.5, 1)
)

# words that only say how a value is represented or when it happened
_TEMPORAL = frozenset({"at", "on", "date", "time", "timestamp", "ts", "datetime", "dt", "utc"})
_ID = frozenset({"id", "ids", "key", "uuid", "guid", "uid", "gid", "sid"})
_REPRESENTATION = (TYPE_SUFFIXES | _TEMPORAL | WRAPPERS) - _ID
# strong synonyms of field-name words (general data vocabulary, both directions)
_SYNONYMS = {
    "modified": "updated",
    "changed": "updated",
    "edited": "updated",
    "inserted": "created",
    "creation": "created",
    "removed": "deleted",
    "cancelled": "canceled",
    "organisation": "organization",
    "telephone": "phone",
    "identifier": "id",
    "qty": "quantity",
    "amt": "amount",
    "desc": "description",
    "num": "number",
    "no": "number",
    "addr": "address",
    "org": "organization",
    "cust": "customer",
    "acct": "account",
}


@functools.lru_cache(maxsize=262144)
def _word(t: str) -> str:
    """One token in a comparable form: synonyms applied, singular, stemmed."""
    return stem(singular(_SYNONYMS.get(t, t)))


def _plain(t: str) -> str:
    return stem(singular(t))


@functools.lru_cache(maxsize=65536)
def core(path: str, synonyms: bool = True) -> tuple[str, ...]:
    """The meaningful words of a path: representation, temporal and envelope words
    removed, the rest singular and stemmed (``issued_at`` and ``issue_date`` -> (issu,))."""
    toks = list(name_tokens(path))  # digits stay: updated_at_2 is another field
    kept = [t for t in toks if t not in _REPRESENTATION]
    form = _word if synonyms else _plain
    return tuple(form(t) for t in (kept or toks))


def _is_identifier(tokens: tuple[str, ...]) -> bool:
    """``id``, ``gid``, ``vid``: a lone identifier token (an id word, or a short token
    ending in ``id``)."""
    return len(tokens) == 1 and (
        tokens[0] in _ID or (tokens[0].endswith("id") and 2 < len(tokens[0]) <= 4)
    )


def id_form(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """1 when both names are identifiers of the record: ``id`` <-> ``gid``, ``id`` <->
    ``list_id`` (its object's name in front), ``vid`` <-> ``id``."""
    if _is_identifier(a) and _is_identifier(b):
        return 1.0
    for x, y in ((a, b), (b, a)):
        if _is_identifier(x) and len(y) == 2 and y[-1] in _ID and y[0] not in QUALIFIERS:
            return 1.0
    return 0.0


def _values(old: FieldView, new: FieldView) -> float:
    if not old.samples or not new.samples:
        return 0.0
    a, b = set(old.samples), set(new.samples)
    return len(a & b) / max(1, min(len(a), len(b)))


def features(old: FieldView, new: FieldView, pattern: str, base: float) -> np.ndarray:
    a, b = name_tokens(old.path), name_tokens(new.path)
    ca, cb = core(old.path), core(new.path)
    pa, pb = core(old.path, False), core(new.path, False)
    same_core = bool(ca) and ca == cb
    temporal = (
        same_core and (bool(set(a) & _TEMPORAL) or bool(set(b) & _TEMPORAL)) and set(a) != set(b)
    )
    heads = ca[-1:] == cb[-1:] and bool(ca)
    ident = id_form(a, b)
    al = align(
        tuple(t for t in a if t not in _REPRESENTATION),
        tuple(t for t in b if t not in _REPRESENTATION),
    )
    extra = 0 if ident and len(a) == len(b) == 1 else len(al.left) + len(al.right)
    direction = type_direction(old.type, new.type)
    json_change = (old.type is FieldType.JSON) != (new.type is FieldType.JSON)
    shape = json_change or type_factor(old, new) <= 0.75
    desc = description_similarity(old.description, new.description)
    anchored = 0.0
    if old.gap is not None and new.gap is not None:
        anchored = 0.5 * (old.gap[0] == new.gap[0]) + 0.5 * (old.gap[1] == new.gap[1])
    values = {
        "base": math.log(max(base, 1e-3) / max(1 - base, 1e-3)),
        "structural": float(pattern in ("separator", "joined") or base >= SEPARATOR_ONLY),
        "respelled": float(pattern in ("typo", "spelling", "plural", "reordered", "bool_prefix")),
        "name": name_similarity(old.path, new.path),
        "core_same": float(same_core),
        "temporal_swap": float(temporal),
        "synonym": float(same_core and pa != pb),
        "id_form": ident,
        "head_same": float(heads),
        "extra_words": min(extra, 4) / 4.0,
        "type_same": float(direction is None and not shape),
        "type_change": float(direction in ("widen", "narrow") and not shape),
        "shape_change": float(shape),
        "position": 1.0 - abs(old.position - new.position),
        "depth_change": min(abs(len(parts(old.path)) - len(parts(new.path))), 2) / 2.0,
        "description": desc or 0.0,
        "values": _values(old, new),
        "anchored": anchored,
    }
    return np.array([values[n] for n in RENAME_FEATURES], dtype=np.float64)
