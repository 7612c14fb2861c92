"""Word-level knowledge for rename detection: general English, not any API's field names.

Envelope words APIs wrap values in, qualifiers that change a field's meaning, opposites,
representation suffixes, and the small morphology (plural, inflection, typos,
abbreviations) used to align the words of two field names.
"""

from __future__ import annotations

import functools

from rapidfuzz.distance import Levenshtein

from autonomos.common.text import stem

# fmt: off
# Envelope levels APIs wrap values in and unwrap again (JSON:API, HAL, list envelopes).
WRAPPERS = frozenset({
    "data", "attributes", "attrs", "properties", "props", "fields", "value", "values",
    "items", "results", "result", "record", "node", "edges", "payload", "body", "embedded",
    "object", "entry", "response",
})
# Words that make a field a different fact about the same thing: one of many, an
# aggregate, a time-relative pick, a role. Adding or dropping one changes meaning.
QUALIFIERS = frozenset({
    "latest", "last", "current", "first", "previous", "prev", "next", "default", "primary",
    "secondary", "original", "new", "old", "initial", "final", "total", "max", "min",
    "maximum", "minimum", "avg", "average", "sum", "count", "num", "estimated", "expected",
    "actual", "net", "gross", "base", "parent", "child", "main", "other", "alt", "alternate",
    "backup", "pending", "preferred", "display", "legal", "billing", "shipping", "home",
    "work", "mobile", "personal", "business", "upcoming", "recent", "oldest", "newest",
    "top", "bottom", "remaining", "unpaid", "paid", "due", "overdue", "lifetime", "daily",
    "monthly", "yearly", "annual", "weekly", "hourly", "local", "global", "raw", "formatted",
    "converted", "unit", "per",
})
# Opposites. Between booleans they invert the value; between other fields they name a
# different fact (opened_at / closed_at), so never a rename.
_ANTONYMS: tuple[tuple[str, str], ...] = (
    ("enable", "disable"), ("enabled", "disabled"), ("active", "inactive"),
    ("activated", "deactivated"), ("active", "deactivated"), ("active", "archived"),
    ("archived", "unarchived"), ("visible", "hidden"), ("visible", "invisible"),
    ("show", "hide"), ("shown", "hidden"), ("open", "closed"), ("opened", "closed"),
    ("open", "close"), ("locked", "unlocked"), ("lock", "unlock"), ("include", "exclude"),
    ("included", "excluded"), ("allow", "deny"), ("allowed", "denied"), ("allowed", "blocked"),
    ("allow", "block"), ("public", "private"), ("on", "off"), ("in", "out"),
    ("accept", "reject"), ("accepted", "rejected"), ("valid", "invalid"),
    ("success", "failure"), ("succeeded", "failed"), ("pass", "fail"), ("passed", "failed"),
    ("online", "offline"), ("present", "absent"), ("available", "unavailable"),
    ("subscribed", "unsubscribed"), ("verified", "unverified"), ("read", "unread"),
    ("muted", "unmuted"), ("paid", "unpaid"), ("deleted", "undeleted"), ("deleted", "exists"),
    ("import", "export"), ("inbound", "outbound"), ("input", "output"),
    ("incoming", "outgoing"), ("sender", "recipient"), ("sender", "receiver"),
    ("from", "to"), ("min", "max"), ("minimum", "maximum"), ("start", "end"),
    ("started", "ended"), ("begin", "end"), ("first", "last"), ("before", "after"),
    ("debit", "credit"), ("buy", "sell"), ("upload", "download"), ("upstream", "downstream"),
    ("true", "false"), ("yes", "no"), ("win", "loss"), ("won", "lost"), ("up", "down"),
    ("upper", "lower"), ("high", "low"), ("income", "expense"), ("asc", "desc"),
    ("add", "remove"), ("added", "removed"), ("created", "deleted"), ("enter", "exit"),
    ("entered", "exited"), ("join", "leave"), ("joined", "left"), ("internal", "external"),
    ("required", "optional"), ("mandatory", "optional"), ("allow", "forbid"),
)
# fmt: on

# Words that only restate how a value is represented (created -> created_at, owner ->
# owner_id, logo -> logo_url, shipping -> shipping_details): the same fact, renamed.
# fmt: off
TYPE_SUFFIXES = frozenset({
    "at", "on", "ts", "time", "date", "datetime", "timestamp", "id", "url", "uri", "href",
    "code", "details", "detail", "info", "data", "value", "obj", "object", "text", "str",
})
# fmt: on
_ANTONYM_SET = frozenset(frozenset(p) for p in _ANTONYMS)
_NEGATIONS = ("non", "dis", "un", "in", "im", "de")  # prefixes that negate a word
NOT_TOKENS = frozenset({"not", "no", "non"})
BOOL_PREFIXES = frozenset({"is", "has", "was", "can", "should", "does", "did", "are", "will"})


@functools.lru_cache(maxsize=65536)
def same_stem(a: str, b: str) -> bool:
    sa, sb = stem(a), stem(b)
    short, long_ = sorted((sa, sb), key=len)
    return len(short) >= 4 and long_.startswith(short) and len(long_) - len(short) <= 3


_INFLECTIONS = ("ing", "ed", "es", "s", "d", "e", "")


@functools.lru_cache(maxsize=65536)
def inflected(a: str, b: str) -> bool:
    """The same word in another form: create / created, reply / replied, open / opening."""

    def bases(t: str) -> set[str]:
        out = {t[: len(t) - len(x)] for x in _INFLECTIONS if t.endswith(x)}
        out |= {b[:-1] + "y" for b in out if b.endswith("i")}
        return {b for b in out if len(b) >= 4}

    return a != b and bool(bases(a) & bases(b))


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance, capped at ``limit`` + 1."""
    return int(Levenshtein.distance(a, b, score_cutoff=limit))


@functools.lru_cache(maxsize=65536)
def typo(a: str, b: str) -> bool:
    """One slip of the keyboard (two in long words), never a change of number."""
    shortest = min(len(a), len(b))
    if shortest < 5 or digits(a) != digits(b):
        return False
    return edit_distance(a, b) <= (2 if shortest >= 8 else 1)


def digits(t: str) -> str:
    return "".join(c for c in t if c.isdigit())


_ANTONYM_STEMS = frozenset(frozenset(map(stem, p)) for p in _ANTONYMS)


@functools.lru_cache(maxsize=65536)
def opposite(a: str, b: str) -> bool:
    """``a`` and ``b`` say opposite things (antonyms, or one negates the other)."""
    if a == b:
        return False
    if frozenset((a, b)) in _ANTONYM_SET or frozenset((stem(a), stem(b))) in _ANTONYM_STEMS:
        return True
    for neg, pos in ((a, b), (b, a)):
        for prefix in _NEGATIONS:
            if neg.startswith(prefix) and len(neg) - len(prefix) >= 4:
                rest = neg[len(prefix) :]
                if rest == pos or same_stem(rest, pos):
                    return True
    return False


@functools.lru_cache(maxsize=65536)
def abbreviates(short: str, long_: str) -> bool:
    """``qty`` / ``quantity``, ``desc`` / ``description``, ``addr`` / ``address``."""
    if len(short) < 2 or len(short) > 0.7 * len(long_) or short[0] != long_[0]:
        return False
    if any(c.isdigit() for c in short + long_):
        return False
    it = iter(long_)
    return all(c in it for c in short)
