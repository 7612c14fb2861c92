"""Field names and descriptions -> comparable tokens.

A field name is split into path segments (``a.b``, ``a/b``, ``a:b``, ``a__b``), each segment
into words (snake_case, camelCase, acronyms, digits: :mod:`autonomos.common.text`), run-together
words into known ones; words are lower-cased, abbreviations expanded, spellings unified,
strong synonyms canonicalised and the common stemmer applied. The
last segment is the *leaf* (what the field is); parent segments are *context*.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from autonomos.common.text import singular, split_path, stem, words
from autonomos.matching.lexicon import (
    ABBREVIATIONS,
    BOOLEAN_TOKENS,
    COMMON_WORDS,
    DROPPABLE_SUFFIXES,
    ENTITY_WORDS,
    ETL_WORDS,
    ID_TOKENS,
    NAME_STOPWORDS,
    QUALIFIERS,
    RELATED,
    SPELLING,
    SYNONYMS,
    TEMPORAL_TOKENS,
    TEXT_STOPWORDS,
)

__all__ = [
    "RELATED_MAP",
    "VOCABULARY",
    "NameParts",
    "canon",
    "canon_words",
    "humanise",
    "parse_name",
    "related",
    "segment",
    "split_path",
    "split_words",
    "stem",
    "text_tokens",
]

_TEXT_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']*")


@functools.lru_cache(maxsize=65536)
def split_words(segment_text: str) -> tuple[str, ...]:
    """``billingCountryCode`` -> (billing, country, code); ``Pricebook2Id`` -> (pricebook,
    2, id); run-together words split into known ones (``closedate`` -> close, date)."""
    return tuple(w for word in words(segment_text) for w in segment(word))


def _vocabulary() -> frozenset[str]:
    vocab = set(COMMON_WORDS) | set(ABBREVIATIONS) | set(SPELLING) | set(SYNONYMS)
    vocab |= {w for exp in ABBREVIATIONS.values() for w in exp} | set(SYNONYMS.values())
    vocab |= {w for g in RELATED for w in g} | {w for g in ENTITY_WORDS.values() for w in g}
    vocab |= QUALIFIERS | TEMPORAL_TOKENS | BOOLEAN_TOKENS | ID_TOKENS | DROPPABLE_SUFFIXES
    return frozenset(w for w in vocab if w.isalpha() and len(w) >= 2)


VOCABULARY = _vocabulary()


@functools.lru_cache(maxsize=65536)
def segment(word: str) -> tuple[str, ...]:
    """Split a run-together lower-case word into known words (``closedate`` -> close, date),
    or return it whole when no complete split into words of >= 2 letters exists."""
    n = len(word)
    if n < 6 or word in VOCABULARY or not word.isalpha():
        return (word,)
    best: list[tuple[float, int] | None] = [None] * (n + 1)
    best[0] = (0.0, 0)
    for end in range(2, n + 1):
        for start in range(max(0, end - 16), end - 1):
            prev = best[start]
            if prev is None or word[start:end] not in VOCABULARY:
                continue
            score = prev[0] + (end - start) ** 2
            cur = best[end]
            if cur is None or score > cur[0]:
                best[end] = (score, start)
    if best[n] is None:
        return (word,)
    parts: list[str] = []
    end = n
    while end > 0:
        start = best[end][1]  # type: ignore[index]
        parts.append(word[start:end])
        end = start
    return tuple(reversed(parts))


def _expand(words: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for i, w in enumerate(words):
        w = SPELLING.get(w, w)
        if w == "no" and i == len(words) - 1 and i > 0:
            out.append("number")  # invoice_no, referenceNo
            continue
        exp = ABBREVIATIONS.get(w)
        if exp is not None:
            out.extend(exp)
        else:
            out.append(w)
    return out


@functools.lru_cache(maxsize=65536)
def canon(word: str) -> str:
    """One word -> its canonical, stemmed form (synonyms applied)."""
    w = SPELLING.get(word, word)
    syn = SYNONYMS.get(w)
    if syn is None and (single := singular(w)) != w:
        syn = SYNONYMS.get(SPELLING.get(single, single))
    return stem(syn or w)


@functools.lru_cache(maxsize=65536)
def canon_words(words: tuple[str, ...]) -> tuple[str, ...]:
    """Raw words of one segment -> canonical tokens (abbreviations expanded, stopwords out)."""
    out = [canon(w) for w in _expand(words) if w not in NAME_STOPWORDS]
    return tuple(t for t in out if t)


@dataclass(frozen=True)
class NameParts:
    leaf: tuple[str, ...]  # canonical tokens of the last path segment
    context: tuple[str, ...]  # canonical tokens of the parent segments, outermost first
    parent: tuple[str, ...]  # canonical tokens of the nearest parent segment
    segments: tuple[tuple[str, ...], ...]  # canonical tokens of each parent segment
    raw_leaf: tuple[str, ...]  # lower-case words of the leaf before canonicalisation
    raw_all: tuple[str, ...]  # lower-case words of the whole path
    depth: int  # number of parent segments
    meta: bool  # an ETL bookkeeping column (_fivetran_synced, _sdc_batched_at, _airbyte_...)


def _bookkeeping(name: str) -> bool:
    """A column a loader added (``_fivetran_synced``, ``_sdc_batched_at``, ``_airbyte_raw_id``):
    a leading underscore and a loader's or bookkeeping word. Other underscored names are the
    source's own (MongoDB's ``_id``, Dataverse lookups such as ``_ownerid_value``)."""
    stripped = name.strip()
    if not stripped.startswith("_"):
        return False
    return bool(set(words(stripped)) & ETL_WORDS)


@functools.lru_cache(maxsize=65536)
def parse_name(name: str) -> NameParts:
    segments = split_path(name) or [name]
    words = [split_words(s) for s in segments]
    words = [w for w in words if w] or [(name.lower(),)]
    leaf_words = words[-1]
    ctx = [t for w in words[:-1] for t in canon_words(w)]
    parent = canon_words(words[-2]) if len(words) > 1 else ()
    leaf = canon_words(leaf_words) or tuple(canon(w) for w in leaf_words)
    return NameParts(
        leaf=leaf,
        context=tuple(ctx),
        parent=parent,
        segments=tuple(canon_words(w) for w in words[:-1]),
        raw_leaf=leaf_words,
        raw_all=tuple(w for ws in words for w in ws),
        depth=len(words) - 1,
        meta=_bookkeeping(name),
    )


@functools.lru_cache(maxsize=16384)
def text_tokens(text: str) -> tuple[str, ...]:
    """Free text (a description) -> canonical content tokens."""
    if not text:
        return ()
    out: list[str] = []
    for m in _TEXT_WORD.finditer(text):
        raw = m.group(0)
        for w in split_words(raw):
            if w in TEXT_STOPWORDS or len(w) < 2:
                continue
            for e in _expand((w,)):
                out.append(canon(e))
    return tuple(out)


def humanise(name: str) -> str:
    """``billing_details.postalCode`` -> ``billing details postal code`` (for embeddings)."""
    return " ".join(w for s in split_path(name) for w in split_words(s)) or name


def _related_map() -> dict[str, frozenset[str]]:
    rel: dict[str, set[str]] = {}
    for group in RELATED:
        toks = {canon(w) for w in group}
        for t in toks:
            rel.setdefault(t, set()).update(toks - {t})
    return {k: frozenset(v) for k, v in rel.items()}


RELATED_MAP = _related_map()


def related(a: str, b: str) -> bool:
    return b in RELATED_MAP.get(a, ())
