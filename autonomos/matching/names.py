"""Field names under relaxations: token forms and their soft overlap.

A name is compared in several spellings ("forms"), each with a small penalty: the leaf as
is, without a temporal suffix (``created_at`` ~ ``created``), without a boolean prefix
(``is_deleted`` ~ ``deleted``), without an identifier suffix (``customer_id`` ~ ``customer``),
without a qualifier such as ``_code`` or ``_name``, ``number_of_x`` as ``x_count``, with its
parent (``plan.id`` ~ ``plan``), without a vendor prefix (``hs_``, the system's name). Two
names match as well as their best pair of forms does, by a weighted soft Dice overlap.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from rapidfuzz.distance import Indel

from autonomos.matching.lexicon import (
    BOOLEAN_TOKENS,
    DROPPABLE_SUFFIXES,
    ENTITY_WORDS,
    ID_TOKENS,
    QUALIFIERS,
    TEMPORAL_TOKENS,
    WRAPPERS,
)
from autonomos.matching.text import (
    RELATED_MAP,
    VOCABULARY,
    canon,
    canon_words,
    parse_name,
    split_words,
)

WEAK_CREDIT = 0.6  # two words that are only related count this much
Form = tuple[tuple[str, ...], float]  # (tokens, penalty)

_TEMPORAL = frozenset(canon(t) for t in TEMPORAL_TOKENS)
_BOOLEAN = frozenset(canon(t) for t in BOOLEAN_TOKENS)
_IDS = frozenset(canon(t) for t in ID_TOKENS)
_DROPPABLE = frozenset(canon(t) for t in DROPPABLE_SUFFIXES)
_QUALIFIERS = frozenset(canon(t) for t in QUALIFIERS)
_WRAPPERS = frozenset((canon(w),) for w in WRAPPERS)
_LAST = canon("last")
_NUMBER = canon("number")
_COUNT = canon("count")


def _add(forms: dict[tuple[str, ...], float], toks: Sequence[str], penalty: float) -> None:
    toks = tuple(toks)
    if toks and penalty < forms.get(toks, 9.0):
        forms[toks] = penalty


def _relax(
    base: tuple[str, ...], ftype: str, penalty: float, out: dict[tuple[str, ...], float]
) -> None:
    """Relaxed spellings of one token sequence (each with an added penalty)."""
    _add(out, base, penalty)
    toks = list(base)
    digits = [t for t in toks if t.isdigit()]
    if digits and len(digits) < len(toks):  # telephone1 ~ phone; the first is the primary
        core = [t for t in toks if not t.isdigit()]
        _relax(tuple(core), ftype, penalty + (0.03 if digits == ["1"] else 0.08), out)
        return
    if len(toks) >= 2 and all(t.isalpha() for t in toks):  # SubTotal ~ subtotal
        _add(out, (canon("".join(toks)),), penalty + 0.02)
    if ftype in ("timestamp", "date", "unknown", "integer", "string") and len(toks) > 1:
        core = [t for t in toks if t not in _TEMPORAL]
        if core and len(core) < len(toks):
            _add(out, core, penalty + 0.02)
            if core[0] == _LAST and len(core) > 1:  # last_modified_date ~ updated_at
                _add(out, core[1:], penalty + 0.05)
    if len(toks) > 1 and toks[0] in _BOOLEAN:
        _add(out, toks[1:], penalty + 0.02)
    if len(toks) > 1 and toks[-1] in _IDS:
        _add(out, toks[:-1], penalty + 0.1)
    if len(toks) > 1 and toks[-1] in _DROPPABLE:
        _add(out, toks[:-1], penalty + 0.08)
    if len(toks) >= 2 and toks[0] == _NUMBER:  # number_of_employees ~ employee_count
        _add(out, [*toks[1:], _COUNT], penalty + 0.02)
    if len(toks) >= 2 and toks[-1] == _COUNT:
        _add(out, [_NUMBER, *toks[:-1]], penalty + 0.02)


@functools.lru_cache(maxsize=65536)
def source_forms(name: str, ftype: str) -> tuple[Form, ...]:
    """Relaxed spellings of a source field's leaf name."""
    parts = parse_name(name)
    out: dict[tuple[str, ...], float] = {}
    _relax(parts.leaf, ftype, 0.0, out)
    return tuple(out.items())


@functools.lru_cache(maxsize=65536)
def path_forms(name: str, ftype: str, drop: frozenset[str]) -> tuple[Form, ...]:
    """Spellings of the nearest parent + leaf (``plan.id`` ~ plan), minus words in ``drop``."""
    parts = parse_name(name)
    parent = tuple(t for t in parts.parent if t not in drop)
    out: dict[tuple[str, ...], float] = {}
    if parent:
        _relax(parent + parts.leaf, ftype, 0.1, out)
    return tuple(out.items())


@functools.lru_cache(maxsize=4096)
def target_forms(field: str, entity: str, ftype: str) -> tuple[Form, ...]:
    toks = canon_words(split_words(field))
    ent = frozenset(canon(w) for w in split_words(entity))
    out: dict[tuple[str, ...], float] = {}
    _relax(toks, ftype, 0.0, out)
    rest = tuple(t for t in toks if t not in ent)
    if rest and len(rest) < len(toks):
        _relax(rest, ftype, 0.04, out)
    return tuple(out.items())


def entity_tokens(entity: str, field_names: Sequence[str] = ()) -> frozenset[str]:
    """Words that name the entity itself (its name and common synonyms), minus any word
    that is also part of one of its fields' names (``plan`` is a subscription field)."""
    own = {canon(w) for n in field_names for w in split_words(n)}
    words = {canon(w) for w in ENTITY_WORDS.get(entity, ())} - own
    return frozenset(words | {canon(w) for w in split_words(entity)})


@functools.lru_cache(maxsize=262144)
def token_sim(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if b in RELATED_MAP.get(a, ()):
        return WEAK_CREDIT
    if len(a) >= 5 and len(b) >= 5 and a[:3] == b[:3]:
        r = Indel.normalized_similarity(a, b)
        if r >= 0.85:
            return 0.8 * r
    return 0.0


def _token_weight(t: str) -> float:
    """Structural tokens (id, at, is, ...) say little about *which* field it is."""
    if t in _IDS:
        return 0.5
    if t in _TEMPORAL or t in _BOOLEAN:
        return 0.3
    return 1.0


@functools.lru_cache(maxsize=262144)
def soft_dice(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Weighted soft Dice overlap of two token sequences (greedy one-to-one token alignment)."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    pairs = sorted(
        ((token_sim(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)), reverse=True
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    total = 0.0
    for s, i, j in pairs:
        if s <= 0:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        total += s * min(_token_weight(a[i]), _token_weight(b[j]))
    norm = sum(_token_weight(t) for t in a) + sum(_token_weight(t) for t in b)
    return 2.0 * total / norm


def best_form_sim(sf: Sequence[Form], tf: Sequence[Form]) -> float:
    best = 0.0
    for st, sp in sf:
        for tt, tp in tf:
            s = soft_dice(st, tt)
            if s > 0:
                best = max(best, s * (1.0 - sp - tp))
    return best


@functools.lru_cache(maxsize=65536)
def prefixed_forms(name: str, ftype: str, system: frozenset[str]) -> tuple[Form, ...]:
    """The leaf without a vendor prefix: the system's own name (``hubspot_owner_id``) or a
    short unknown word in front (``hs_is_closed``, ``sf_stage``)."""
    parts = parse_name(name)
    if len(parts.raw_leaf) < 2:
        return ()
    first = parts.raw_leaf[0]
    if not (first in system or (len(first) <= 3 and first.isalpha() and first not in VOCABULARY)):
        return ()
    rest = canon_words(parts.raw_leaf[1:])
    out: dict[tuple[str, ...], float] = {}
    if rest:
        _relax(rest, ftype, 0.03, out)
    return tuple(out.items())
