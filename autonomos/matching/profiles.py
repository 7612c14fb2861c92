"""Value profiles: what a column's sample values look like, and what a target field expects.

``detect(samples)`` names the dominant kind of a column's values (email, phone, url, domain,
currency code, country, timestamp, boolean, identifier, integer, money, enum, text, json);
``expected(field_name, type)`` lists the kinds an ontology field accepts; ``agreement`` turns
the two into a signal in [-1, 1] (0 = no evidence).
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from autonomos.matching.text import canon

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_URL = re.compile(r"^(https?://|www\.)\S+$", re.I)
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}/?$", re.I)
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}(\s*(x|ext\.?)\s*\d{1,6})?$", re.I)
_ISO_TS = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_OTHER_DATE = re.compile(
    r"^(\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}/\d{2}/\d{2})([ T]\d{1,2}:\d{2}.*)?$"
)
_BOOL = {"true", "false", "yes", "no", "t", "f", "y", "n"}
_PREFIXED_ID = re.compile(r"^[A-Za-z]{1,8}[_-][A-Za-z0-9_-]{6,}$")
_HEXISH = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)
_OPAQUE_ID = re.compile(r"^(?=.*\d)[A-Za-z0-9]{12,40}$")
_CLOUD_ID = re.compile(r"^(arn:|ocid1\.|/subscriptions/|projects/)\S+$")
_INT = re.compile(r"^[+-]?\d+$")
_DEC = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d{1,3}(,\d{3})+(\.\d+)?)$")
_MONEY = re.compile(r"^[$€£¥]\s?[\d,]+(\.\d+)?$|^[\d,]+(\.\d+)?\s?(USD|EUR|GBP)$")
_CURRENCIES = frozenset(
    """usd eur gbp jpy cny inr cad aud chf sek nok dkk pln czk huf ron bgn hrk rub try brl mxn ars
    clp cop pen zar ngn egp kes aed sar ils krw sgd hkd twd thb myr idr php vnd nzd""".split()
)
_COUNTRY_CODES = frozenset(
    """us gb uk de fr ca nl au ie es it pt be ch at se no dk fi pl cz hu ro bg gr tr ru ua br mx ar
    cl co pe za ng eg ke ae sa il in cn jp kr sg hk tw th my id ph vn nz""".split()
)
_COUNTRY_NAMES = frozenset(
    """united states|usa|united kingdom|germany|france|canada|netherlands|australia|ireland|spain|
    italy|portugal|belgium|switzerland|austria|sweden|norway|denmark|finland|poland|brazil|mexico|
    argentina|india|china|japan|singapore|south africa|new zealand|israel|japan|korea""".replace(
        "\n", ""
    )
    .replace("    ", "")
    .split("|")
)

STRONG = frozenset({"email", "url", "domain", "phone", "currency", "country", "timestamp", "bool"})


def _kind(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "epoch" if 946684800 <= v <= 4102444800 else "integer"
    if isinstance(v, float):
        return "money" if abs(v * 100 - round(v * 100)) < 1e-6 else "decimal"
    if isinstance(v, dict | list | tuple):
        return "json"
    s = str(v).strip()
    if not s or s.lower() in {"null", "none", "nan", "n/a"}:
        return None
    low = s.lower()
    if low in _BOOL:
        return "bool"
    if s[0] in "[{":
        try:
            json.loads(s)
            return "json"
        except ValueError:
            pass
    if _EMAIL.match(s):
        return "email"
    if _URL.match(s):
        return "url"
    if _ISO_TS.match(s) or _OTHER_DATE.match(s):
        return "timestamp"
    if _INT.match(s):
        n = int(s)
        if len(s) >= 9 and 946684800 <= n <= 4102444800:
            return "epoch"
        return "integer" if len(s) < 9 else "id"
    if _DEC.match(s):
        return "money" if re.search(r"\.\d{2}$", s) else "decimal"
    if _MONEY.match(s):
        return "money"
    if len(s) == 3 and low in _CURRENCIES:
        return "currency"
    if len(s) == 2 and low in _COUNTRY_CODES:
        return "country"
    if low in _COUNTRY_NAMES:
        return "country"
    if _DOMAIN.match(s):
        return "domain"
    if _PHONE.match(s) and sum(c.isdigit() for c in s) >= 7:
        return "phone"
    if _HEXISH.match(s) or _PREFIXED_ID.match(s) or _CLOUD_ID.match(s) or _OPAQUE_ID.match(s):
        return "id"
    if " " in s and len(s) > 40:
        return "text"
    return "word"


def detect(samples: Sequence[Any]) -> str | None:
    """The dominant kind of the values (>= 60 % of the non-empty ones), or None."""
    kinds = [k for k in (_kind(v) for v in samples[:200]) if k]
    if not kinds:
        return None
    counts = Counter(kinds)
    kind, n = counts.most_common(1)[0]
    if n / len(kinds) < 0.6:
        numeric = sum(counts[k] for k in ("integer", "money", "decimal"))
        if numeric / len(kinds) >= 0.8:
            return "money" if counts["money"] else "decimal"
        return None
    if kind == "word":
        distinct = len(set(map(str, samples)))
        return "enum" if distinct <= max(3, len(kinds) // 3) or distinct <= 12 else "name"
    return kind


def _has(tokens: Iterable[str], *words: str) -> bool:
    """Whether any canonical token is one of ``words`` (compared in canonical form)."""
    canonical = _canon_set(words)
    return any(t in canonical for t in tokens)


@functools.lru_cache(maxsize=256)
def _canon_set(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(canon(w) for w in words) | frozenset(words)


@functools.lru_cache(maxsize=4096)
def expected(tokens: tuple[str, ...], ftype: str) -> frozenset[str]:
    """Kinds an ontology field accepts, from its canonical name tokens and type."""
    if ftype in ("timestamp", "date"):
        return frozenset({"timestamp", "epoch"})
    if ftype == "boolean":
        return frozenset({"bool", "integer"})
    if ftype == "json":
        return frozenset({"json", "enum", "word", "name", "text"})
    if ftype in ("decimal", "integer"):
        if _has(tokens, "probability", "percent"):
            return frozenset({"integer", "decimal", "money"})
        return frozenset(
            {"integer", "decimal", "money", "epoch"}
            if ftype == "integer"
            else {"integer", "decimal", "money"}
        )
    if _has(tokens, "email", "mail"):
        return frozenset({"email"})
    if _has(tokens, "phone", "fax", "mobile"):
        return frozenset({"phone"})
    if _has(tokens, "domain", "url", "web", "website"):
        return frozenset({"domain", "url"})
    if _has(tokens, "currency"):
        return frozenset({"currency"})
    if _has(tokens, "country"):
        return frozenset({"country", "name", "enum"})
    if tokens and tokens[-1] == canon("id"):
        return frozenset({"id", "integer", "enum", "word"})
    if _has(tokens, "number"):
        return frozenset({"id", "integer", "word", "enum"})
    return frozenset({"enum", "name", "word", "text", "id"})


def agreement(kind: str | None, accepted: frozenset[str]) -> float:
    """+1 when the values look like what the field holds, -1 when they clearly do not."""
    if kind is None:
        return 0.0
    if kind in accepted:
        return 1.0
    if kind in STRONG or accepted <= STRONG | {"epoch"}:
        return -1.0
    if kind == "id" and accepted & {"integer", "decimal", "money"}:
        return -1.0
    return -0.3
