"""Indexing a whole corpus of ``{"_id", "title", "text"}`` documents in batches (what
``autonomos kb run`` and ``benchmarks/retrieval.py`` do)."""

from __future__ import annotations

import uuid
from typing import Any

BATCH_DOCS = 256


def document_content(doc: dict[str, Any]) -> bytes:
    title = doc.get("title") if isinstance(doc.get("title"), str) else ""
    return (f"{title}\n\n{doc['text']}" if title else doc["text"]).encode("utf-8")


async def index_corpus(
    kb: Any, tenant_id: uuid.UUID, docs: list[dict[str, Any]], redact: bool | None
) -> int:
    from autonomos.nlp.kb import NewDocument

    indexed = 0
    for i in range(0, len(docs), BATCH_DOCS):
        batch = [
            NewDocument(
                content=document_content(d),
                media_type="text/plain",
                title=d.get("title") or None,
                external_id=str(d["_id"]),
            )
            for d in docs[i : i + BATCH_DOCS]
            if d["text"].strip() or d.get("title")
        ]
        indexed += len(await kb.add_documents(tenant_id, batch, redact=redact))
    return indexed
