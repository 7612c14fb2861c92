"""Document text from uploaded bytes: plain text, Markdown, PDF (pypdf).

The type comes from the declared media type, else the file name's extension, else the
bytes themselves (``%PDF-``). Anything else is refused, as are empty documents, text
that is not UTF-8 or is mostly control characters (binary garbage), PDFs that cannot be
parsed or are encrypted, and PDFs without a text layer (scans).
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from autonomos.nlp.errors import BadDocument, DocumentTooLarge, UnsupportedType

Kind = Literal["text", "markdown", "pdf"]
MEDIA_TYPES: dict[str, Kind] = {
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "application/pdf": "pdf",
}
EXTENSIONS: dict[str, Kind] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
}
CANONICAL: dict[Kind, str] = {
    "text": "text/plain",
    "markdown": "text/markdown",
    "pdf": "application/pdf",
}
_GENERIC = {"", "application/octet-stream", "binary/octet-stream"}
MAX_PDF_PAGES = 2_000

logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-PDF warnings are ours to report


@dataclass(frozen=True)
class Extracted:
    kind: Kind
    media_type: str
    text: str


def detect_kind(content: bytes, media_type: str | None, filename: str | None) -> Kind:
    declared = (media_type or "").split(";")[0].strip().lower()
    if declared in MEDIA_TYPES:
        return MEDIA_TYPES[declared]
    if declared not in _GENERIC and not declared.startswith("text/"):
        raise UnsupportedType(declared)
    suffix = PurePosixPath(filename or "").suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if content.startswith(b"%PDF-"):
        return "pdf"
    if declared.startswith("text/") or (declared in _GENERIC and not suffix):
        return "text"
    raise UnsupportedType(suffix or declared)


def extract(
    content: bytes, *, media_type: str | None = None, filename: str | None = None, max_bytes: int
) -> Extracted:
    if len(content) > max_bytes:
        raise DocumentTooLarge(len(content), max_bytes)
    if not content.strip():
        raise BadDocument("document is empty", "empty")
    kind = detect_kind(content, media_type, filename)
    if kind == "pdf":
        text = _pdf_text(content)
    else:
        text = _decode(content)
        if kind == "markdown":
            text = markdown_to_text(text)
    text = _clean(text)
    if not text.strip():
        raise BadDocument("document has no text", "empty")
    return Extracted(kind, CANONICAL[kind], text)


def _decode(content: bytes) -> str:
    if b"\x00" in content:
        raise BadDocument("document is binary, not text", "binary")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadDocument("text is not valid UTF-8", "binary") from None
    control = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t\f")
    if control > max(8, len(text) // 100):
        raise BadDocument("document is binary, not text", "binary")
    return text


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise BadDocument("PDF is encrypted", "unreadable")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise BadDocument(f"PDF has more than {MAX_PDF_PAGES} pages", "too_large")
        pages = [page.extract_text() or "" for page in reader.pages]
    except BadDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as e:
        raise BadDocument(f"PDF cannot be read: {type(e).__name__}", "unreadable") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise BadDocument("PDF has no text layer (scanned?)", "empty")
    return text


_MD_RULES = [
    (re.compile(r"```[^\n]*\n"), "\n"),  # code fences (keep the code)
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links -> their text
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE), ""),  # heading marks
    (re.compile(r"^\s{0,3}>\s?", re.MULTILINE), ""),  # quotes
    (re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.MULTILINE), ""),  # list bullets
    (re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # emphasis, code
    (re.compile(r"<[^>\n]+>"), ""),  # inline HTML tags
]


def markdown_to_text(md: str) -> str:
    for rx, repl in _MD_RULES:
        md = rx.sub(repl, md)
    return md


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if unicodedata.category(c) != "Cc" or c in "\n\t")
    return re.sub(r"\n{3,}", "\n\n", text).strip()
