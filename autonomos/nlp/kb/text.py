"""Tokens for lexical retrieval: lower case, Unicode words, English stop words removed,
Snowball (Porter 2) stems. The usual BM25 pipeline (Lucene's EnglishAnalyzer does the
same), not tuned to any collection."""

from __future__ import annotations

import re
import threading
import unicodedata

import Stemmer

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Lucene's English stop set plus a few function words; content words are never dropped.
STOP_WORDS = frozenset(
    """a an and are as at be but by for if in into is it no not of on or such that the
    their then there these they this to was will with i me my we our you your he him his
    she her its them what which who whom were been being have has had do does did than
    so can could would should may might must shall from about""".split()
)

_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    # PyStemmer objects are not thread-safe; one per thread.
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def tokenize(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    words = [w for w in _WORD.findall(text) if w not in STOP_WORDS]
    return list(_stemmer().stemWords(words))
