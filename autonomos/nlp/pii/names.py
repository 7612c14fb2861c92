"""Person names: capitalised word runs judged by a gazetteer, word shape and context.

No statistical NER model can be downloaded at run time, so the detector combines what
ships offline:

- the gazetteer (:mod:`.gazetteer`): known given names and surnames of many languages;
- surname morphology: endings that mark surnames across languages (``-ov``, ``-sson``,
  ``-ović``, ``-ski``, ``-dóttir``, ...);
- context: titles (``Dr.``, ``Ms.``), introductions (``Dear``, ``name is``, ``Name:``,
  ``signed``), and e-mail local parts that spell the same words.

A run of capitalised words is a person when its first word is a known given name, or
its last a known surname and the run is not sentence-initial common English, or an
introduction or title precedes it. One known name in a run carries the unknown words
next to it ("Einar Pyysalo"). Lower-case text is only searched after an introduction
("my name is lena andersson") or as given name + initial + surname.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from autonomos.nlp.pii import context as ctx
from autonomos.nlp.pii.gazetteer import COMMON_WORDS, Gazetteer, fold, gazetteer
from autonomos.nlp.pii.types import PIILabel, Span

_TOKEN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*\.?", re.UNICODE)
_PARTICLES = frozenset("van von der den de del della di da dos das du le la bin ibn al ter ten".split())
_SUFFIXES = (
    "ov", "ova", "ev", "eva", "in", "ina", "sky", "skiy", "skaya", "enko", "chuk", "uk",
    "ović", "ovic", "ević", "evic", "ić", "ic", "ski", "ska", "cki", "cka", "wicz", "czyk",
    "sson", "sen", "son", "dóttir", "dottir", "escu", "opoulos", "idis", "akis", "ian",
    "yan", "mann", "berg", "stein", "ová", "ová", "ez", "es", "ini", "elli", "etti", "oni",
    "moto", "yama", "mura", "kawa", "shvili", "dze", "oglu", "oğlu", "ek", "ak", "nen",
    "lainen", "salo",
)
_ROMAN = frozenset("ii iii iv jr jr. sr sr.".split())
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\"“”()\[\]>]|\n)\s*$")


def _is_cap(tok: str) -> bool:
    core = tok.rstrip(".")
    return (
        len(core) >= 2
        and core[0].isupper()
        and not core.isupper()
        and core.lower() not in COMMON_WORDS
    )


def _is_initial(tok: str) -> bool:
    core = tok.rstrip(".")
    return len(core) == 1 and core.isalpha() and core.isupper()


def _surname_shape(word: str) -> bool:
    w = word.lower().rstrip(".")
    return len(w) >= 5 and w.endswith(_SUFFIXES)


def _email_words(text: str) -> set[str]:
    words: set[str] = set()
    for local in re.findall(r"([A-Za-z0-9._%+\-]+)@", text):
        for part in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", local):
            if len(part) >= 3:
                words.add(fold(part))
    return words


class PersonDetector:
    def __init__(self, names: Gazetteer | None = None) -> None:
        self._names = names

    @property
    def names(self) -> Gazetteer:
        if self._names is None:
            self._names = gazetteer()
        return self._names

    def find(self, text: str, blocked: list[tuple[int, int]] = ()) -> Iterator[Span]:  # type: ignore[assignment]
        tokens = [
            (m.start(), m.end(), m.group(0))
            for m in _TOKEN.finditer(text)
            if not any(s <= m.start() < e for s, e in blocked)
        ]
        in_email = _email_words(text)
        i = 0
        while i < len(tokens):
            run = self._run(text, tokens, i)
            if not run:
                i += 1
                continue
            span = self._judge(text, tokens[i : i + run], in_email)
            if span is not None:
                yield span
            i += run
        yield from self._lowercase(text, tokens)

    def _run(self, text: str, tokens: list[tuple[int, int, str]], i: int) -> int:
        """Length of the run of name-like tokens starting at ``i`` (0: none)."""
        if not _is_cap(tokens[i][2]):
            return 0
        j = i + 1
        while j < len(tokens):
            gap = text[tokens[j - 1][1] : tokens[j][0]]
            if gap not in (" ", "") or "\n" in gap:
                break
            tok = tokens[j][2]
            if _is_cap(tok) or _is_initial(tok) or tok.lower().rstrip(".") in _ROMAN:
                j += 1
            elif tok.lower() in _PARTICLES and j + 1 < len(tokens) and _is_cap(tokens[j + 1][2]):
                j += 1
            else:
                break
        return min(j - i, 5)

    def _judge(
        self, text: str, run: list[tuple[int, int, str]], in_email: set[str]
    ) -> Span | None:
        start = run[0][0]
        end = run[-1][1]
        if run[-1][2].endswith(".") and not _is_initial(run[-1][2]):
            end -= 1
        words = [t[2].rstrip(".") for t in run]
        # A title is not part of the name: "Dr. Justin Beet" -> "Justin Beet".
        while words and words[0].lower() in ctx.TITLES:
            run, words = run[1:], words[1:]
            if not run:
                return None
            start = run[0][0]
        first, last = words[0], words[-1]
        names = self.names
        known_first = names.is_first(first)
        known_last = len(words) > 1 and (names.is_last(last) or _surname_shape(last))
        emailed = sum(fold(w) in in_email for w in words)
        titled = ctx.has_cue(ctx.words_before(text, start, 12), ctx.TITLES, 1)
        introduced = titled or ctx.introduces_name(text, start)
        sentence_start = bool(_SENTENCE_END.search(text[max(0, start - 3) : start])) or start == 0
        if len(words) >= 2:
            ok = known_first or known_last or emailed or introduced
        else:
            ok = (
                introduced
                or emailed > 0
                or known_first
                or (not sentence_start and (names.is_last(first) or _surname_shape(first)))
            )
        if not ok:
            return None
        return Span(start, end, PIILabel.PERSON, 0.9 if introduced or known_first else 0.7)

    def _lowercase(self, text: str, tokens: list[tuple[int, int, str]]) -> Iterator[Span]:
        names = self.names
        for k, (s, _e, tok) in enumerate(tokens):
            if not tok.islower() or not names.is_first(tok):
                continue
            nxt = tokens[k + 1 : k + 3]
            introduced = ctx.introduces_name(text, s)
            if introduced and nxt and names.is_last(nxt[0][2].rstrip(".")):
                yield Span(s, nxt[0][1], PIILabel.PERSON, 0.8)
            elif (
                len(nxt) == 2
                and len(nxt[0][2].rstrip(".")) == 1
                and names.is_last(nxt[1][2])
            ):
                yield Span(s, nxt[1][1], PIILabel.PERSON, 0.8)
            elif introduced:
                yield Span(s, _e, PIILabel.PERSON, 0.7)
