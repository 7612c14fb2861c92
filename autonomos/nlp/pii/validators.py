"""Checksums and number rules that separate real identifiers from look-alikes.

python-stdnum implements them (Luhn, IBAN country formats and mod-97, US SSN area and
group rules, ISBN); ``ipaddress`` parses IP addresses.
"""

from __future__ import annotations

import ipaddress
import re

from stdnum import iban as _iban
from stdnum import isbn as _isbn
from stdnum import luhn as _luhn
from stdnum.us import ssn as _ssn

_DATE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./](?:\d{4}|\d{2}))$")


def digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def luhn_valid(number: str) -> bool:
    d = digits(number)
    return len(d) >= 12 and len(set(d)) > 1 and _luhn.is_valid(d)


def iban_valid(candidate: str) -> bool:
    """Country length and format, and the ISO 7064 mod-97 check. Country-specific BBAN
    checksums are not required: python-stdnum lacks some banks' newer schemes."""
    try:
        _iban.validate(candidate, check_country=False)
    except Exception:
        return False
    return True


def ssn_valid(candidate: str) -> bool:
    return bool(_ssn.is_valid(digits(candidate)))


def isbn_valid(candidate: str) -> bool:
    d = digits(candidate)
    return len(d) in (10, 13) and bool(_isbn.is_valid(candidate))


def ip_address(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def ip_network(candidate: str) -> bool:
    """An address with a prefix length (``10.0.0.0/8``, ``fe80::/10``)."""
    try:
        ipaddress.ip_network(candidate, strict=False)
    except ValueError:
        return False
    return True


def looks_like_date(candidate: str) -> bool:
    return bool(_DATE.match(candidate.strip()))
