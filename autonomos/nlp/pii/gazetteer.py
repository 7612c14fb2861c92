"""Given names and surnames from many languages, for the person detector.

The lists come from Faker's person providers (MIT; ~85 locales), read at first use:
Latin-script names as they are and without accents, Cyrillic and Greek names
transliterated to Latin (names travel romanised in English text). Words that are far
more often ordinary English than a name ("Will", "May", "Rock") are removed; the detector
still finds them as names when the context says so ("Mr. Rock").
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
import unicodedata
from dataclasses import dataclass

_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
        (
            "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya i yi ye g"
        ).split(),
        strict=True,
    )
)
_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋΐΰ",
        "a v g d e z i th i k l m n x o p r s s t y f ch ps o a e i i o y o i y i y".split(),
        strict=True,
    )
)

# Common English words that are also given names or surnames somewhere.
COMMON_WORDS = frozenset(
    """a an and are art as at august be bill bird black blue bond born brown buck bush
    but by can case chance charity cook cross dale dawn day dean do early east faith
    fall field fish ford forest fox frank free gay gold golden grace green grant hall
    hand hay heart hill holly hope house hunter in is it ivy jack joy june just king
    lake lane law lee long love major march mark mason may miles mill miller moon more
    new north not of on or page park parks patience pink poor price prince queen rain
    ray read reed rich river rock rose ruby sage sea shadow short small smith snow
    song south spring star stone storm street summer sun sunday monday tuesday wednesday
    thursday friday saturday january february april july september october november
    december the to town unity victory wall ward water west white will win winter wolf
    wood worth young you he she they we my his her our their this that what who why how
    when where which there here so no yes all any one two new old good great little
    best better last first next happy lucky bright christian god lord devil angel
    baker carpenter mayor judge rich summers sharp strong hardy noble gentle wise
    money cash bank credit card chase sterling pound euro dollar hi hello hey dear thanks
    regards sincerely cheers welcome please jan feb mar apr jun jul aug sep sept oct nov
    dec server servers user users admin client clients service team support order account
    customer manager director doctor nurse teacher guest member staff sales office home
    work job city state country world people person man woman boy girl hence among
    relative western eastern northern southern however therefore thus although both each
    after before during within between overall results methods background conclusion
    conclusions objective design patients gene genes bone lung cell cells""".split()
)


@dataclass(frozen=True)
class Gazetteer:
    first: frozenset[str]
    last: frozenset[str]

    def is_first(self, word: str) -> bool:
        w = word.lower()
        return w not in COMMON_WORDS and (w in self.first or fold(w) in self.first)

    def is_last(self, word: str) -> bool:
        w = word.lower()
        return w not in COMMON_WORDS and (w in self.last or fold(w) in self.last)


def fold(word: str) -> str:
    """Lower case without accents: ``Křenová`` -> ``krenova``."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _romanise(word: str) -> str:
    w = word.lower()
    table = _CYRILLIC if any(c in _CYRILLIC for c in w) else _GREEK
    if not any(c in table for c in w):
        return w
    return "".join(table.get(c, c) for c in w).replace("-", "")


def _values(v: object) -> list[str]:
    if isinstance(v, dict):
        return [str(k) for k in v]
    if isinstance(v, list | tuple | set | frozenset):
        return [str(x) for x in v]
    return []


def _load() -> Gazetteer:
    import faker.providers.person as person

    first: set[str] = set()
    last: set[str] = set()
    for mod in pkgutil.iter_modules(person.__path__):
        provider = getattr(
            importlib.import_module(f"{person.__name__}.{mod.name}"), "Provider", None
        )
        if provider is None:
            continue
        for attr, into in (
            ("first_names", first),
            ("first_names_male", first),
            ("first_names_female", first),
            ("first_names_nonbinary", first),
            ("first_romanized_names", first),
            ("last_names", last),
            ("last_romanized_names", last),
        ):
            for name in _values(getattr(provider, attr, None)):
                for part in name.replace("-", " ").split():
                    if len(part) < 2 or not part.isalpha():
                        continue
                    roman = _romanise(part)
                    if not roman.isascii() and not any(c.isalpha() and c.isascii() for c in roman):
                        continue  # a script other than Latin, Cyrillic or Greek
                    into.update({roman, fold(roman)})
    first -= COMMON_WORDS
    last -= COMMON_WORDS
    return Gazetteer(frozenset(first), frozenset(last))


_lock = threading.Lock()
_gazetteer: Gazetteer | None = None


def gazetteer() -> Gazetteer:
    """The process-wide gazetteer (~0.5 s to build on first use)."""
    global _gazetteer
    with _lock:
        if _gazetteer is None:
            _gazetteer = _load()
        return _gazetteer
