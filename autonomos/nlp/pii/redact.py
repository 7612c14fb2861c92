"""The redactor: every detector, overlaps resolved, spans replaced by typed placeholders.

    redactor = Redactor()
    r = redactor.redact("Call Ada Lovelace on +44 20 7946 0958")
    r.redacted   # 'Call [PERSON] on [PHONE]'
    r.spans      # (Span(5, 17, PERSON), Span(21, 37, PHONE))

Validated identifiers win over phones, phones over names, and a longer span over a
shorter one of the same rank. Text inside URLs is never taken for a name.
"""

from __future__ import annotations

from collections.abc import Iterable

from autonomos.nlp.pii import patterns
from autonomos.nlp.pii.names import PersonDetector
from autonomos.nlp.pii.types import PIILabel, Redaction, Span

_RANK = {
    PIILabel.EMAIL: 0,
    PIILabel.IBAN: 0,
    PIILabel.CREDIT_CARD: 1,
    PIILabel.US_SSN: 1,
    PIILabel.IP_ADDRESS: 1,
    PIILabel.PHONE: 2,
    PIILabel.PERSON: 3,
}
ALL_LABELS = frozenset(PIILabel)


class Redactor:
    """Finds and replaces PII. Thread-safe; build one per process and reuse it (the name
    gazetteer loads once, on first use)."""

    def __init__(
        self, labels: Iterable[PIILabel] = ALL_LABELS, persons: PersonDetector | None = None
    ) -> None:
        self.labels = frozenset(labels)
        self.persons = persons or PersonDetector()

    def detect(self, text: str) -> list[Span]:
        found: list[Span] = []
        want = self.labels
        if PIILabel.EMAIL in want:
            found += patterns.emails(text)
        if PIILabel.IBAN in want:
            found += patterns.ibans(text)
        if PIILabel.CREDIT_CARD in want:
            found += patterns.credit_cards(text)
        if PIILabel.US_SSN in want:
            found += patterns.ssns(text)
        if PIILabel.IP_ADDRESS in want:
            found += patterns.ip_addresses(text)
        if PIILabel.PHONE in want:
            found += patterns.phones(text)
        if PIILabel.PERSON in want:
            blocked = [(s.start, s.end) for s in found] + patterns.urls(text)
            found += self.persons.find(text, blocked)
        return _resolve(found)

    def redact(self, text: str) -> Redaction:
        spans = self.detect(text)
        parts: list[str] = []
        pos = 0
        for s in spans:
            parts += [text[pos : s.start], s.label.placeholder]
            pos = s.end
        parts.append(text[pos:])
        return Redaction(text, "".join(parts), tuple(spans))


def _resolve(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans, best first by rank then length, returned in text order."""
    kept: list[Span] = []
    for s in sorted(spans, key=lambda s: (_RANK[s.label], -(s.end - s.start), s.start)):
        if not any(s.overlaps(k) for k in kept):
            kept.append(s)
    return sorted(kept)
