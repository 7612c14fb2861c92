"""The words of redaction: labels, spans and the result of redacting one text."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class PIILabel(enum.StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CREDIT_CARD = "CREDIT_CARD"
    US_SSN = "US_SSN"
    IBAN = "IBAN"
    IP_ADDRESS = "IP_ADDRESS"
    PERSON = "PERSON"

    @property
    def placeholder(self) -> str:
        return f"[{self.value}]"


@dataclass(frozen=True, order=True)
class Span:
    """``text[start:end]`` is PII of kind ``label``; ``score`` in (0, 1] says how sure the
    detector is (validated numbers 1.0, context-only guesses lower)."""

    start: int
    end: int
    label: PIILabel
    score: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"bad span {self.start}..{self.end}")

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "label": self.label.value}


@dataclass(frozen=True)
class Redaction:
    """A text, its redacted form and the spans (offsets into ``text``) that were replaced."""

    text: str
    redacted: str
    spans: tuple[Span, ...]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.spans:
            out[s.label.value] = out.get(s.label.value, 0) + 1
        return out
