"""Detectors for PII with a shape: e-mail, credit card, US SSN, IBAN, IP address, phone.

Each finds candidates with a regular expression and keeps those a validator or the
context confirms: a 16-digit number is a card only when its Luhn check holds, an IBAN
only when its country format and mod-97 check hold, a run of digits is a phone when it
is written like one (international prefix, national trunk ``0``, North-American
grouping) or introduced like one ("call me on", "Fax:").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from autonomos.nlp.pii import context as ctx
from autonomos.nlp.pii import validators as v
from autonomos.nlp.pii.types import PIILabel, Span

_EMAIL = re.compile(
    r"(?<![\w.%+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9\-]{1,59})"
    r"(?![\w\-])"
)
_URL = re.compile(r"\b(?:https?|ftp|file)://[^\s\"'<>]+|\bwww\.[^\s\"'<>]+", re.IGNORECASE)
_CARD = re.compile(r"(?<![\w\-.])\d(?:[ \-]?\d){11,18}(?![\w\-]|\.\d)")
_SSN = re.compile(r"(?<![\w\-.])(\d{3})([\- ]?)(\d{2})\2(\d{4})(?![\w\-]|\.\d)")
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ \-]?[A-Za-z0-9])")
_IP_RUN = re.compile(r"(?<![\w:.])([0-9A-Fa-f:.]{3,})(%[A-Za-z0-9]{1,16})?(/\d{1,3})?(?![\w:]|/\d)")
# Something written like an IBAN (country, check digits, groups) is never a phone or a
# card, even when its checksum fails.
_IBAN_LIKE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{1,4}){3,8}(?![A-Za-z0-9])")
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_PHONE = re.compile(
    r"(?<![\w+\-.])(?:\+|00)?\(?\d{1,4}\)?(?:[ .\-]{0,2}\(?\d{1,5}\)?){1,7}"
    r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?(?!\w|-\d|\.\d)",
    re.IGNORECASE,
)
_NANP = re.compile(r"^(?:\+?1[ .\-]?|001[ .\-]?)?\(?\d{3}\)?[ .\-]?\d{3}[ .\-]\d{4}$")
_TRUNK = re.compile(r"^\(?0\d{1,4}\)?(?:[ .\-]\d{2,4}){2,5}$")


def urls(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _URL.finditer(text)]


def emails(text: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        yield Span(m.start(), m.end(), PIILabel.EMAIL)


def _card_grouping_ok(raw: str) -> bool:
    groups = re.split(r"[ \-]", raw)
    if len(groups) == 1:
        return True
    sizes = [len(g) for g in groups]
    if all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4:
        return True
    return sizes in ([4, 6, 5], [4, 6, 4], [4, 4, 5], [4, 6])


def credit_cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text):
        raw = m.group(0)
        if not _card_grouping_ok(raw) or not v.luhn_valid(raw):
            continue
        d = v.digits(raw)
        if len(d) == 13 and d[:3] in ("978", "979") and v.isbn_valid(d):
            continue
        before = ctx.words_before(text, m.start(), 30)
        if ctx.has_cue(before, ctx.NUMBER_NEGATIVE, 3) and not ctx.has_cue(
            before, ctx.CARD_BEFORE, 3
        ):
            continue
        yield Span(m.start(), m.end(), PIILabel.CREDIT_CARD)


def ssns(text: str) -> Iterator[Span]:
    for m in _SSN.finditer(text):
        if not v.ssn_valid(m.group(0)):
            continue
        # Dashed SSNs stand on their own; spaced or bare nine digits need an SSN cue.
        if m.group(2) != "-" and not ctx.has_cue(
            ctx.words_before(text, m.start(), 40), ctx.SSN_BEFORE, 5
        ):
            continue
        yield Span(m.start(), m.end(), PIILabel.US_SSN)


def ibans(text: str) -> Iterator[Span]:
    for m in _IBAN_START.finditer(text):
        # Grow over alphanumerics and single separators; keep the longest valid prefix.
        ends: list[int] = []
        i, n_alnum = m.end(), 4
        while i < len(text) and n_alnum < 34:
            c = text[i]
            if c.isascii() and c.isalnum():
                n_alnum += 1
                i += 1
                if i == len(text) or not (text[i].isascii() and text[i].isalnum()):
                    ends.append(i)
            elif (
                c in " -"
                and i + 1 < len(text)
                and text[i + 1].isascii()
                and text[i + 1].isalnum()
                and text[i - 1] != c
            ):
                i += 1
            else:
                break
        for end in reversed(ends):
            if end - m.start() >= 15 and v.iban_valid(text[m.start() : end]):
                yield Span(m.start(), end, PIILabel.IBAN)
                break


def ip_addresses(text: str) -> Iterator[Span]:
    for m in _IP_RUN.finditer(text):
        raw, start = m.group(1).rstrip("."), m.start()
        if raw.count(":") >= 2:
            if not any(c.isdigit() or c in "abcdefABCDEF" for c in raw):
                continue
        elif raw.count(".") != 3:
            continue
        if not v.ip_address(raw):
            continue
        if ctx.has_cue(ctx.words_before(text, start, 20), frozenset({"version", "v", "ver"}), 2):
            continue
        end = start + len(raw)
        if raw == m.group(1):
            zone, prefix = m.group(2) or "", m.group(3) or ""
            if zone and ":" in raw:
                end += len(zone)
            if prefix and not zone and v.ip_network(raw + prefix):
                end += len(prefix)
        yield Span(start, end, PIILabel.IP_ADDRESS)


def _phone_number_parses(raw: str) -> bool:
    number = "+" + raw[2:] if raw.startswith("00") else raw
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(parsed)


def iban_like(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _IBAN_LIKE.finditer(text)]


def _shaped(raw: str) -> bool:
    return bool(_NANP.match(raw) or _TRUNK.match(raw)) and not _SSN_SHAPE.match(raw)


def phones(text: str) -> Iterator[Span]:
    blocked = iban_like(text)
    for m in _PHONE.finditer(text):
        raw = m.group(0).rstrip(" .-")
        while raw.endswith(")") and raw.count(")") > raw.count("("):  # "(a@b.org, +44 ...)"
            raw = raw[:-1].rstrip(" .-")
        start, end = m.start(), m.start() + len(raw)
        if any(s < end and start < e for s, e in blocked):
            continue
        if raw.count("(") != raw.count(")") and not raw.startswith("("):
            continue
        n = len(v.digits(re.split(r"[xX]|ext", raw)[0]))
        if not 7 <= n <= 15 or v.looks_like_date(raw) or v.isbn_valid(raw):
            continue
        before = ctx.words_before(text, start, 40)
        after = ctx.words_after(text, end, 15)
        cued = ctx.has_cue(before, ctx.PHONE_BEFORE, 4) or (
            bool(after) and after[0] in ctx.PHONE_AFTER
        )
        negative = ctx.has_cue(before, ctx.NUMBER_NEGATIVE, 2)
        international = raw.startswith(("+", "00")) and _phone_number_parses(raw)
        if international or (cued and not _SSN_SHAPE.match(raw)):
            yield Span(start, end, PIILabel.PHONE, 1.0)
            continue
        if negative:
            continue
        # A longer run may end in a phone written the usual way ("SD 20241 440-600-5124").
        for sep in [0, *(i + 1 for i, c in enumerate(raw) if c == " ")]:
            if _shaped(raw[sep:]):
                yield Span(start + sep, end, PIILabel.PHONE, 0.8)
                break
