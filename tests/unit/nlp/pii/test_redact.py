"""PII detectors on hand-written cases (none from the evaluation set): what must be
redacted with its label, and look-alikes that must be left alone."""

from __future__ import annotations

import pytest

from autonomos.nlp.pii import PIILabel, Redactor


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()


@pytest.mark.parametrize(
    ("text", "value", "label"),
    [
        ("write to olga.petrova@mail.example.org today", "olga.petrova@mail.example.org", "EMAIL"),
        ("my visa 4111 1111 1111 1111 expires", "4111 1111 1111 1111", "CREDIT_CARD"),
        ("amex 378282246310005 please", "378282246310005", "CREDIT_CARD"),
        ("SSN 536-90-4399 on file", "536-90-4399", "US_SSN"),
        ("pay to DE89 3704 0044 0532 0130 00 now", "DE89 3704 0044 0532 0130 00", "IBAN"),
        ("iban fr1420041010050500013m02606.", "fr1420041010050500013m02606", "IBAN"),
        ("login from 203.0.113.7 failed", "203.0.113.7", "IP_ADDRESS"),
        ("node 2001:db8:85a3::8a2e:370:7334 is up", "2001:db8:85a3::8a2e:370:7334", "IP_ADDRESS"),
        ("block 198.51.100.0/24 now", "198.51.100.0/24", "IP_ADDRESS"),
        ("call +49 30 901820 tomorrow", "+49 30 901820", "PHONE"),
        ("office (212) 555-0147 ext", "(212) 555-0147", "PHONE"),
        ("Mobile:\n06 12 34 56 78", "06 12 34 56 78", "PHONE"),
        ("Dear Ingrid Halvorsen, thanks", "Ingrid Halvorsen", "PERSON"),
        ("the report by Dr. Tomasz Wiśniewski was late", "Tomasz Wiśniewski", "PERSON"),
        ("please ask for mr. okafor at the desk", "okafor", "PERSON"),
    ],
)
def test_redacts(redactor: Redactor, text: str, value: str, label: str) -> None:
    r = redactor.redact(text)
    spans = [(text[s.start : s.end], s.label.value) for s in r.spans]
    assert (value, label) in spans, spans
    assert PIILabel(label).placeholder in r.redacted and value not in r.redacted


@pytest.mark.parametrize(
    "text",
    [
        "Order #48213390172 shipped",
        "Invoice 2024-00031 is due",
        "ISBN 978-3-16-148410-0",
        "released version 10.4.2.1 today",
        "4111 1111 1111 1112 is not a card",  # fails Luhn
        "GB00 WEST 1234 5698 7654 32 is not an IBAN",  # fails mod-97
        "meeting on 12/05/2024 at 14:30:00",
        "SSN 000-12-3456 is invalid",
        "Capitalised Words Like Quality And Service are not people.",
        "We met in May and the Will was read.",
        "See https://www.Example.com/JohnSmith/page",
    ],
)
def test_leaves_look_alikes(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text).spans == ()


def test_spans_are_offsets_into_the_text(redactor: Redactor) -> None:
    text = "Ana Souza (ana@example.com) paid with 5555 5555 5555 4444."
    r = redactor.redact(text)
    assert r.redacted == "[PERSON] ([EMAIL]) paid with [CREDIT_CARD]."
    assert [text[s.start : s.end] for s in r.spans] == [
        "Ana Souza",
        "ana@example.com",
        "5555 5555 5555 4444",
    ]
    assert r.counts() == {"PERSON": 1, "EMAIL": 1, "CREDIT_CARD": 1}


@pytest.mark.parametrize(
    "text",
    ["Maria (maria@example.org, +44 20 7946 0958).", "call me (+1 415 867 5309)"],
)
def test_a_phone_closing_a_parenthesis_is_redacted(redactor: Redactor, text: str) -> None:
    out = redactor.redact(text).redacted
    assert "[PHONE])" in out and not any(c.isdigit() for c in out), out
