"""Person names: capitalised word runs judged by a gazetteer, word shape and context.

No statistical NER model can be downloaded at run time, so the detector combines what
ships offline:

- the gazetteer (:mod:`.gazetteer`): known given names and surnames of many languages;
- surname morphology: endings that mark surnames across languages (``-ov``, ``-sson``,
  ``-ović``, ``-ski``, ``-dóttir``, ...);
- context: titles (``Dr.``, ``Ms.``), introductions (``Dear``, ``name is``, ``Name:``,
  ``says``), verbs that follow people ("lives", "said"), e-mail local parts that spell
  the same words, and coordination with a name already found ("Kadiev and Adams").

A run of capitalised words is a person when its first word is a known given name, or its
last a known surname, or an introduction or title precedes it; one known name carries the
unknown words next to it ("Einar Pyysalo"). Runs ending in an organisation or place word
("... Orchestra", "... Street") are not people. Lower-case text is only searched after an
introduction or a title ("my name is lena andersson", "mr. elliott"), or as given name +
initial + surname.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from autonomos.nlp.pii import context as ctx
from autonomos.nlp.pii.gazetteer import COMMON_WORDS, Gazetteer, fold, gazetteer
from autonomos.nlp.pii.types import PIILabel, Span

_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*", re.UNICODE)
_PARTICLES = frozenset(
    "van von der den de del della di da dos das du le la bin ibn al ter ten".split()
)
_SUFFIXES = (
    "ov",
    "ova",
    "ev",
    "eva",
    "ina",
    "sky",
    "skiy",
    "skaya",
    "enko",
    "chuk",
    "ović",
    "ovic",
    "ević",
    "evic",
    "ić",
    "ski",
    "ska",
    "cki",
    "cka",
    "wicz",
    "czyk",
    "sson",
    "sen",
    "dóttir",
    "dottir",
    "escu",
    "opoulos",
    "idis",
    "akis",
    "yan",
    "mann",
    "berg",
    "stein",
    "ová",
    "ez",
    "ini",
    "elli",
    "etti",
    "moto",
    "yama",
    "mura",
    "kawa",
    "shvili",
    "dze",
    "oglu",
    "oğlu",
    "nen",
    "lainen",
    "salo",
)
_ROMAN = frozenset("ii iii iv jr sr".split())
_ORG_WORDS = frozenset(
    """orchestra inc ltd llc plc gmbh corp corporation company co group bank university
    college school institute foundation hospital church club hotel partners associates
    street st road rd avenue ave lane boulevard square park river lake mountain airport
    station center centre museum theatre theater press media news times journal
    reports records studios labs""".split()
)
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\"“”()\[\]>]|\n)\s*$")

Token = tuple[int, int, str]


def _is_cap(tok: str) -> bool:
    return len(tok) >= 2 and tok[0].isupper() and not tok.isupper()


def _is_initial(tok: str) -> bool:
    return len(tok) == 1 and tok.isalpha() and tok.isupper()


def _possessive(tok: str) -> bool:
    return tok.endswith(("'s", "\u2019s"))


def _surname_shape(word: str) -> bool:
    w = word.lower()
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

    def find(self, text: str, blocked: Sequence[tuple[int, int]] = ()) -> Iterator[Span]:
        tokens = [
            (m.start(), m.end(), m.group(0))
            for m in _TOKEN.finditer(text)
            if not any(s <= m.start() < e for s, e in blocked)
        ]
        in_email = _email_words(text)
        found: list[Span] = []
        i = 0
        while i < len(tokens):
            run = self._run(text, tokens, i)
            if not run:
                i += 1
                continue
            span = self._judge(text, tokens, i, run, in_email)
            if span is not None:
                found.append(span)
            i += run
        found += self._coordinated(text, tokens, found)
        found += self._lowercase(text, tokens)
        yield from found

    def _run(self, text: str, tokens: list[Token], i: int) -> int:
        """Length of the run of name-like tokens starting at ``i`` (0: none)."""
        if not _is_cap(tokens[i][2]):
            return 0
        j = i + 1
        while j < len(tokens) and j - i < 5 and not _possessive(tokens[j - 1][2]):
            prev = tokens[j - 1][2]
            gap = text[tokens[j - 1][1] : tokens[j][0]]
            dotted = prev.lower() in ctx.TITLES or _is_initial(prev)
            if not (gap.strip(" ") == "" or (dotted and gap.strip(" ") == ".")) or "\n" in gap:
                break
            tok = tokens[j][2]
            if _is_cap(tok) or _is_initial(tok) or tok.lower() in _ROMAN:
                j += 1
            elif tok.lower() in _PARTICLES and j + 1 < len(tokens) and _is_cap(tokens[j + 1][2]):
                j += 1
            else:
                break
        return j - i

    def _judge(
        self, text: str, tokens: list[Token], i: int, n: int, in_email: set[str]
    ) -> Span | None:
        names = self.names
        run = tokens[i : i + n]
        # Titles are not part of the name ("Dr. Justin Beet" -> "Justin Beet").
        titled = False
        while run and run[0][2].lower() in ctx.TITLES:
            run, titled = run[1:], True
        # Sentence-initial or common words before a known name are not part of it.
        while (
            len(run) > 1
            and not self._known(run[0][2])
            and (run[0][2].lower() in COMMON_WORDS or self._sentence_start(text, run[0][0]))
            and self._known(run[1][2])
        ):
            run = run[1:]
        while (
            run
            and run[-1][2].lower() in _ORG_WORDS | COMMON_WORDS
            and not (len(run) > 1 and names.is_first(run[0][2]))
        ):
            if run[-1][2].lower() in _ORG_WORDS:
                return None
            run = run[:-1]
        if not run:
            return None
        words = [self._bare(t[2]) for t in run]
        start, end = run[0][0], run[-1][1] - (len(run[-1][2]) - len(words[-1]))
        if words[0].lower() in COMMON_WORDS and not titled:
            return None
        prev = tokens[i - 1][2] if i > 0 and tokens[i - 1][1] <= start else ""
        if prev.isupper() and len(prev) > 1 and text[tokens[i - 1][1] : start].strip() == "":
            return None  # after an all-caps word: code or a heading ("FROM Users")
        first, last = words[0], words[-1]
        known_first = names.is_first(first)
        known_last = len(words) > 1 and (names.is_last(last) or _surname_shape(last))
        emailed = sum(fold(w) in in_email for w in words)
        introduced = (
            titled
            or ctx.has_cue(ctx.words_before(text, start, 12), ctx.TITLES, 1)
            or ctx.introduces_name(text, start)
        )
        after = ctx.words_after(text, end, 15)
        followed = bool(after) and after[0] in ctx.PERSON_AFTER
        if len(words) >= 2:
            ok = known_first or known_last or emailed > 0 or introduced or followed
        else:
            lone_surname = names.is_last(first) or _surname_shape(first)
            ok = (
                introduced
                or emailed > 0
                or known_first
                or followed
                or (lone_surname and not self._sentence_start(text, start))
            )
        if not ok:
            return None
        return Span(start, end, PIILabel.PERSON, 0.9 if introduced or known_first else 0.7)

    def _known(self, word: str) -> bool:
        w = self._bare(word)
        return self.names.is_first(w) or self.names.is_last(w)

    @staticmethod
    def _bare(word: str) -> str:
        return word[:-2] if _possessive(word) else word

    @staticmethod
    def _sentence_start(text: str, start: int) -> bool:
        return start == 0 or bool(_SENTENCE_END.search(text[max(0, start - 3) : start]))

    def _coordinated(self, text: str, tokens: list[Token], found: list[Span]) -> list[Span]:
        """Capitalised words listed with a name found ("Kadiev and Adams", "Hleb, Sheila")."""
        if not found:
            return []
        taken = {(s.start, s.end) for s in found}
        out: list[Span] = []
        for s, _e, tok in tokens:
            if not _is_cap(tok) or tok.lower() in COMMON_WORDS or any(a <= s < b for a, b in taken):
                continue
            bare = self._bare(tok)
            end = s + len(bare)
            for span in found:
                gap = text[end : span.start] if span.start >= end else text[span.end : s]
                if gap in (" and ", ", ", " & ", " or "):
                    out.append(Span(s, end, PIILabel.PERSON, 0.6))
                    break
        return out

    def _lowercase(self, text: str, tokens: list[Token]) -> Iterator[Span]:
        names = self.names
        for k, (s, e, tok) in enumerate(tokens):
            if not tok.islower() or tok in COMMON_WORDS:
                continue
            prev = tokens[k - 1][2].lower() if k else ""
            titled = prev in ctx.TITLES and text[tokens[k - 1][1] : s].strip() in ("", ".")
            if not (names.is_first(tok) or titled):
                continue
            nxt = tokens[k + 1 : k + 3]
            introduced = titled or ctx.introduces_name(text, s, strong=True)
            if introduced and nxt and names.is_last(nxt[0][2]):
                yield Span(s, nxt[0][1], PIILabel.PERSON, 0.8)
            elif len(nxt) == 2 and len(nxt[0][2]) == 1 and names.is_last(nxt[1][2]):
                yield Span(s, nxt[1][1], PIILabel.PERSON, 0.8)
            elif introduced:
                yield Span(s, e, PIILabel.PERSON, 0.7)
