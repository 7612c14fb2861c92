"""Errors of the NLP package: one base, and whether retrying can help."""

from __future__ import annotations

from typing import Literal

Retry = Literal["transient", "terminal", "configuration"]


class NLPError(Exception):
    """Base of every NLP error (knowledge base, retrieval, redaction).

    ``retry``: ``terminal`` (this input fails again), ``transient`` (a backend was
    unavailable), ``configuration`` (fix the settings first)."""

    retry: Retry = "terminal"

    def __init__(self, message: str, *, retry: Retry | None = None) -> None:
        super().__init__(message)
        if retry is not None:
            self.retry = retry


class BadDocument(NLPError):
    """An uploaded document cannot be indexed: empty, binary, unreadable or of a type the
    knowledge base does not take. ``reason`` is a short machine-readable code."""

    def __init__(self, message: str, reason: str = "invalid_document") -> None:
        super().__init__(message)
        self.reason = reason


class DocumentTooLarge(BadDocument):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"document is {size} bytes; the limit is {limit}", "too_large")
        self.size, self.limit = size, limit


class UnsupportedType(BadDocument):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"unsupported document type {what!r}: send text, Markdown or PDF",
            "unsupported_type",
        )


class DocumentNotFound(NLPError):
    """No such document for this tenant (another tenant's document is answered the same)."""

    def __init__(self, document_id: object) -> None:
        super().__init__(f"document {document_id} not found")


class BadQuery(NLPError):
    """A search request the knowledge base cannot answer (empty query, k out of range)."""
