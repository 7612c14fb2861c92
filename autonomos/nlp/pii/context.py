"""Context cues: the words around a candidate that make it more or less likely PII.

These are general English cues (how people introduce a phone number, a name or an order
reference), not strings of any evaluation set.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

PHONE_BEFORE = frozenset(
    """phone phones telephone tel tel. mobile mob cell cellphone fax call called calling
    callback text texts sms whatsapp message messages dial ring reach contact landline
    hotline answering desk office direct switchboard""".split()
)
PHONE_AFTER = frozenset("office fax mobile cell home work desk direct".split())

# A number introduced by one of these is an identifier of something else.
NUMBER_NEGATIVE = frozenset(
    """order orders ord invoice inv ticket ref reference tracking batch id isbn issn version
    v ver build release serial sku item part amount total sum zip postcode postal code
    policy case claim shipment parcel confirmation booking receipt transaction txn
    account acct page pages chapter volume vol year years""".split()
)
CARD_BEFORE = frozenset("card cc credit debit visa mastercard amex maestro".split())
SSN_BEFORE = frozenset("ssn social security ss#".split())

TITLES = frozenset(
    """mr mrs ms miss mx dr prof sir madam madame dame lord lady mister monsieur herr frau
    señor señora sr sra don doña signor signora""".split()
)
NAME_INTRO = re.compile(
    r"(?:\b(?:sur)?name\s*(?:is|was|:|\?)|\bnamed|\bsays|\bsaid|\basked|\breplied|\bwrote|\bcalled|\bi\s*am|\bi'm|\bthis\s+is|\bsigned"
    r"|\bregards,?|\bsincerely,?|\bthanks,?|\bcheers,?|\bdear|\bhi|\bhello|\bhey"
    r"|\bask\s+for|\bspeak\s+(?:to|with)|\bon\s+behalf\s+of|\battn:?|\battention:?"
    r"|\bcontact:?|\bauthor:?|\bby|\bfrom|\bdirected\s+by:?|\bwritten\s+by:?)\s*[,:]?\s*$",
    re.IGNORECASE,
)


def words_before(text: str, start: int, window: int = 40) -> list[str]:
    """Lower-cased words in the ``window`` characters before ``start``, on the same line,
    or on the line before when the value stands alone on its line ("Phone:\\n555 0100")."""
    left = text[max(0, start - window) : start]
    lines = re.split(r"[\n|]", left)
    line = lines[-1]
    if not _WORD.search(line) and len(lines) > 1:
        line = lines[-2]
    return [w.lower() for w in _WORD.findall(line)]


PERSON_AFTER = frozenset(
    """lives lived says said asks asked replied wrote works worked flew died smiled laughed
    told thinks thought""".split()
)


def words_after(text: str, end: int, window: int = 20) -> list[str]:
    right = re.split(r"[\n/|]", text[end : end + window])[0]
    return [w.lower() for w in _WORD.findall(right)]


def has_cue(words: list[str], cues: frozenset[str], last: int = 4) -> bool:
    return any(w in cues for w in words[-last:])


STRONG_INTRO = re.compile(
    r"(?:\b(?:sur)?name\s*(?:is|was|:|\?)|\bsigned|\bregards,?|\bsincerely,?|\bdear"
    r"|\bhi|\bhello|\bhey)\s*[,:]?\s*$",
    re.IGNORECASE,
)


def introduces_name(text: str, start: int, strong: bool = False) -> bool:
    """Whether the text right before ``start`` introduces a person ("Dear", "name is").
    ``strong``: only cues that cannot precede an ordinary word ("by", "from" can)."""
    left = text[max(0, start - 30) : start]
    return bool((STRONG_INTRO if strong else NAME_INTRO).search(left))
