"""The one text toolkit: how names and words are split, normalised, stemmed and compared.

Used by the AAM (column names, rename detection), matching (field names against the
ontology) and the DCL (entity names in resolution), so that "the same word" and "a
similar name" mean one thing across the platform. Language-general only: vocabularies
(abbreviations, synonyms, qualifiers) belong to the module that needs them.

- :func:`normalize_name`: ``billing.Address.City`` -> ``billing.address.city`` (landed
  column names, drift paths);
- :func:`name_tokens`: the words of a normalised dotted path (digits stay attached:
  ``address_line1`` -> ``address``, ``line1``);
- :func:`split_path` / :func:`words`: path segments, and the lower-case words of one
  segment (casing, acronyms, digits split: ``Pricebook2Id`` -> ``pricebook``, ``2``,
  ``id``);
- :func:`stem` and :func:`singular`: the one light stemmer and plural rule;
- :func:`name_similarity` / :func:`name_similarities`: how alike two names are as text,
  in [0, 1] (token-sort ratio of their words), one pair or aligned lists.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

__all__ = [
    "name_similarities",
    "name_similarity",
    "name_tokens",
    "normalize_name",
    "normalize_names",
    "singular",
    "split_path",
    "stem",
    "words",
]

_CAMEL_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_TOKEN_SEP = re.compile(r"[._]+")
_PATH_SEP = re.compile(r"__|[./:\\\[\]>|$#@]+")
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_VOWELS = frozenset("aeiouy")


# ---------------------------------------------------------------- names


@functools.lru_cache(maxsize=65536)
def _normalize_part(part: str) -> str:
    s = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", part)).lower()
    s = _NON_ALNUM.sub("_", s).strip("_")
    if not s:
        return "_"
    return "_" + s if s[0].isdigit() else s


@functools.lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """snake_case each dotted part: ``billing.Address.City`` -> ``billing.address.city``."""
    return ".".join(_normalize_part(p) for p in name.split("."))


def normalize_names(names: Iterable[str]) -> list[str]:
    """Normalise and de-duplicate: the second ``a`` becomes ``a_2``, then ``a_3``..."""
    out: list[str] = []
    seen: set[str] = set()
    for n in names:
        base = normalize_name(n)
        cand, i = base, 2
        while cand in seen:
            cand, i = f"{base}_{i}", i + 1
        seen.add(cand)
        out.append(cand)
    return out


@functools.lru_cache(maxsize=65536)
def name_tokens(name: str) -> tuple[str, ...]:
    """The words of a name once normalised: ``customer.addressLine1`` -> (customer,
    address, line1). Digits stay with their word, so numbered siblings stay apart."""
    return tuple(t for t in _TOKEN_SEP.split(normalize_name(name)) if t)


def split_path(name: str) -> list[str]:
    """Path segments: ``a.b``, ``a/b``, ``a:b``, ``a__b``, ``a[0]`` -> ``[a, b]``."""
    return [s for s in _PATH_SEP.split(name.strip()) if s]


@functools.lru_cache(maxsize=65536)
def words(segment: str) -> tuple[str, ...]:
    """Lower-case words of one segment: ``ISOCurrencyCode`` -> (iso, currency, code),
    ``Pricebook2Id`` -> (pricebook, 2, id)."""
    out: list[str] = []
    for chunk in re.split(r"[^A-Za-z0-9]+", segment):
        if chunk:
            out.extend(m.group(0).lower() for m in _WORD.finditer(chunk))
    return tuple(out)


# ---------------------------------------------------------------- words


@functools.lru_cache(maxsize=65536)
def singular(word: str) -> str:
    """``categories`` -> ``category``, ``addresses`` -> ``address``, ``plans`` -> ``plan``
    (``status``, ``address``, ``analysis`` stay)."""
    w = word
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("sses", "xes", "zes", "ches", "shes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: enough to equate created/creation/create,
    billing/billed/bill, categories/category."""
    w = word
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        w = w[:-1]
    for suffix, repl in (("ational", "at"), ("ation", "at"), ("ition", "it"), ("tion", "t")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + repl
            break
    else:
        for suffix in ("ing", "ed"):
            if w.endswith(suffix) and len(w) - len(suffix) >= 3:
                base = w[: -len(suffix)]
                if not any(c in _VOWELS for c in base):
                    break
                w = base
                if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                    w = w[:-1]  # shipped -> ship, but billed -> bill
                break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


# ---------------------------------------------------------------- similarity


def _sortable(name: str | None) -> str:
    return " ".join(name_tokens(name)) if name else ""


def name_similarity(a: str | None, b: str | None) -> float:
    """How alike two names are as text, 0..1: the token-sort ratio of their words
    (order, case and separators do not count). 0 when either is empty."""
    x, y = _sortable(a), _sortable(b)
    if not x or not y:
        return 0.0
    return float(fuzz.token_sort_ratio(x, y)) / 100.0


def name_similarities(a: Sequence[str | None], b: Sequence[str | None]) -> np.ndarray:
    """:func:`name_similarity` of aligned lists (``a[i]`` with ``b[i]``), computed in C."""
    left = [_sortable(x) for x in a]
    right = [_sortable(y) for y in b]
    if not left:
        return np.zeros(0)
    sim = cpdist(left, right, scorer=fuzz.token_sort_ratio, workers=1) / 100.0
    missing = np.array([not x for x in left]) | np.array([not y for y in right])
    return np.where(missing, 0.0, sim)
