"""Split a document's text into overlapping passages of about ``size`` words.

Passages break at sentence ends where one falls in the last quarter of the window, so a
sentence is rarely cut in two; consecutive passages share ``overlap`` words so a fact that
straddles a boundary is whole in one of them. Each chunk keeps its character range in
the document's text (for citations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?:;][\"')\]]*$")


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    text: str
    start: int
    end: int


def chunk_text(text: str, size: int = 256, overlap: int = 32) -> list[Chunk]:
    if size < 1 or not 0 <= overlap < size:
        raise ValueError("chunk size must be >= 1 and 0 <= overlap < size")
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not words:
        return []
    chunks: list[Chunk] = []
    i = 0
    while i < len(words):
        j = min(i + size, len(words))
        if j < len(words):
            # prefer to end on a sentence boundary in the last quarter of the window
            for k in range(j, i + max(1, (3 * size) // 4), -1):
                if _SENTENCE_END.search(text[words[k - 1][0] : words[k - 1][1]]):
                    j = k
                    break
        start, end = words[i][0], words[j - 1][1]
        chunks.append(Chunk(len(chunks), text[start:end], start, end))
        if j >= len(words):
            break
        i = max(j - overlap, i + 1)
    return chunks
