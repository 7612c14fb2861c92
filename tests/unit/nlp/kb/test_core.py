"""BM25 kept up to date incrementally, chunking with overlap, RRF, document extraction."""

from __future__ import annotations

import itertools

import pytest

from autonomos.nlp.errors import BadDocument, DocumentTooLarge, UnsupportedType
from autonomos.nlp.kb.bm25 import BM25Index
from autonomos.nlp.kb.chunking import chunk_text
from autonomos.nlp.kb.extract import extract
from autonomos.nlp.kb.fusion import rrf
from autonomos.nlp.kb.text import tokenize
from tests.unit.nlp.kb.pdf import make_pdf

DOCS = {
    1: "Refunds are paid within fourteen days to the original card.",
    2: "Shipping takes three business days inside the European Union.",
    3: "The refund of a shipping fee is not possible after delivery.",
}


def test_tokenize_stems_and_drops_stop_words() -> None:
    assert tokenize("The Refunds were PAID") == ["refund", "paid"]


def test_bm25_incremental_equals_rebuilt() -> None:
    inc = BM25Index()
    for i, t in DOCS.items():
        inc.add(i, tokenize(t))
    inc.add(4, tokenize("temporary refund note"))
    inc.remove(4)
    fresh = BM25Index()
    for i, t in DOCS.items():
        fresh.add(i, tokenize(t))
    q = tokenize("refund shipping")
    got, want = inc.search(q, 3), fresh.search(q, 3)
    assert [i for i, _ in got] == [i for i, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want])
    assert inc.postings == fresh.postings and inc.total_length == fresh.total_length
    assert inc.search(q, 3)[0][0] == 3  # the only chunk with both terms
    assert inc.search(tokenize("unknown words"), 3) == []


def test_chunks_overlap_and_keep_offsets() -> None:
    text = " ".join(f"w{i}." if i % 10 == 9 else f"w{i}" for i in range(100))
    chunks = chunk_text(text, size=30, overlap=5)
    assert len(chunks) > 3
    for c in chunks:
        assert text[c.start : c.end] == c.text and len(c.text.split()) <= 30
    for a, b in itertools.pairwise(chunks):
        assert a.text.split()[-5:] == b.text.split()[:5]  # overlap
        assert a.text.endswith(".")  # cut at a sentence end
    assert chunks[-1].text.split()[-1] == "w99."
    assert chunk_text("   ") == []
    with pytest.raises(ValueError):
        chunk_text("a b", size=4, overlap=4)


def test_rrf() -> None:
    fused = rrf({"bm25": ["a", "b"], "dense": ["b", "c"]})
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert max(fused, key=fused.__getitem__) == "b"


def test_extract_kinds_and_refusals() -> None:
    md = extract(
        b"# Title\n\nSee [the docs](http://x) and **bold** text.",
        media_type="text/markdown",
        max_bytes=1000,
    )
    assert md.text == "Title\n\nSee the docs and bold text."
    pdf = extract(make_pdf("Hello from a PDF"), filename="a.pdf", max_bytes=10_000)
    assert pdf.kind == "pdf" and "Hello from a PDF" in pdf.text
    assert extract(make_pdf("sniffed"), max_bytes=10_000).kind == "pdf"
    with pytest.raises(DocumentTooLarge):
        extract(b"x" * 2000, max_bytes=1024)
    with pytest.raises(UnsupportedType):
        extract(b"abc", media_type="image/png", max_bytes=1024)
    for bad in (b"", b" \n ", b"\x00\x01\x02abc", "é".encode("latin-1") * 3):
        with pytest.raises(BadDocument):
            extract(bad, media_type="text/plain", max_bytes=1024)
    with pytest.raises(BadDocument):
        extract(b"%PDF-1.4 garbage", media_type="application/pdf", max_bytes=1024)
