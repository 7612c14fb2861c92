"""Errors of the NLP package: one base, and whether retrying can help."""

from __future__ import annotations

from typing import Any

from autonomos.common.errors import AutonomosError, FailureType


class NLPError(AutonomosError):
    """Base of every NLP error (knowledge base, retrieval, redaction)."""


class BadDocument(NLPError):
    """An uploaded document cannot be indexed: empty, binary, unreadable or of a type the
    knowledge base does not take. ``reason`` is a short machine-readable code."""

    failure = FailureType.CONFIGURATION

    def __init__(self, message: str, reason: str = "invalid_document") -> None:
        super().__init__(message)
        self.reason = reason

    @property
    def details(self) -> dict[str, Any]:
        return {"reason": self.reason}


class DocumentTooLarge(BadDocument):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"document is {size} bytes; the limit is {limit}", "too_large")
        self.size, self.limit = size, limit

    @property
    def details(self) -> dict[str, Any]:
        return {"limit": self.limit}


class UnsupportedType(BadDocument):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"unsupported document type {what!r}: send text, Markdown or PDF",
            "unsupported_type",
        )


class DocumentNotFound(NLPError):
    """No such document for this tenant (another tenant's document is answered the same)."""

    def __init__(self, document_id: object) -> None:
        super().__init__("document not found")  # the same words for any id, whoever's
        self.document_id = document_id


class BadQuery(NLPError):
    """A search request the knowledge base cannot answer (empty query, k out of range)."""

    failure = FailureType.CONFIGURATION
