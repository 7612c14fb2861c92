"""/nlp/v1/kb: the tenant's knowledge base: upload, list, delete documents; search them.

Reading and searching need the viewer role, adding and deleting documents the operator
role, changing the tenant's KB settings (PII redaction) the admin role. Uploads are
multipart (``file``, optional ``title``) or JSON (``{"text", "title", "format"}``); text,
Markdown and PDF; larger than ``AUTONOMOS_KB_MAX_UPLOAD_BYTES`` -> 413, another type ->
415, empty or binary garbage -> 422. Another tenant's document answers 404.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, StrictBool, ValidationError
from starlette.datastructures import UploadFile

from autonomos.nlp.errors import BadDocument, DocumentTooLarge
from autonomos.nlp.kb import Hit, NewDocument, SearchMode
from autonomos.serve_apps.api.deps import Admin, KnowledgeBaseDep, Operator, Principal, Viewer
from autonomos.serve_apps.api.errors import ApiError, errors
from autonomos.serve_apps.api.schemas import Strict
from autonomos.store.kb_models import KBDocument

PREFIX = "/nlp/v1/kb"
UPLOAD_PATH = f"{PREFIX}/documents"
router = APIRouter(prefix=PREFIX, tags=["knowledge base"])


class TextDocumentIn(Strict):
    text: str = Field(min_length=1, description="The document's text.")
    title: str | None = Field(None, max_length=500)
    format: Literal["text", "markdown"] = "text"
    external_id: str | None = Field(None, max_length=200)


class DocumentOut(BaseModel):
    id: uuid.UUID
    title: str
    filename: str | None
    external_id: str | None
    media_type: str
    size_bytes: int
    chars: int
    chunk_count: int
    pii_redacted: bool
    redactions: dict[str, int] = Field(description="PII replaced before indexing, per label.")
    created_at: datetime
    created_by: str | None

    @classmethod
    def of(cls, d: KBDocument) -> DocumentOut:
        return cls.model_validate(d, from_attributes=True)


class DocumentList(BaseModel):
    documents: list[DocumentOut]
    total: int


class HitOut(BaseModel):
    document_id: uuid.UUID
    chunk_id: int
    title: str | None
    external_id: str | None
    text: str | None = Field(description="The best-matching passage (after PII redaction).")
    score: float = Field(description="The mode's score: fused (hybrid), BM25 or cosine.")
    bm25: float | None
    bm25_rank: int | None
    dense: float | None
    dense_rank: int | None
    fused: float | None

    @classmethod
    def of(cls, h: Hit) -> HitOut:
        return cls.model_validate(h, from_attributes=True)


class SearchOut(BaseModel):
    query: str
    mode: SearchMode
    k: int
    hits: list[HitOut]


class KBSettingsIO(Strict):
    pii_redaction: StrictBool = Field(description="Redact PII before indexing new documents.")


def _who(p: Principal) -> str:
    return f"user:{p.user_id}"


async def _document_in(request: Request, limit: int) -> NewDocument:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            body = TextDocumentIn.model_validate_json(await request.body())
        except ValidationError as e:
            raise ApiError(
                422,
                "validation_error",
                "request is invalid",
                [{"loc": list(x["loc"]), "msg": x["msg"], "type": x["type"]} for x in e.errors()],
            ) from None
        media = "text/markdown" if body.format == "markdown" else "text/plain"
        return NewDocument(body.text.encode(), None, media, body.title, body.external_id)
    if ctype != "multipart/form-data":
        raise ApiError(
            415, "unsupported_media_type", "send multipart/form-data with a file, or JSON text"
        )
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError(422, "validation_error", "multipart field 'file' is missing")
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise DocumentTooLarge(len(content), limit)
    title = form.get("title")
    return NewDocument(
        content,
        filename=(upload.filename or None) and upload.filename[:500],
        media_type=upload.content_type,
        title=title[:500] if isinstance(title, str) and title.strip() else None,
    )


_DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string", "maxLength": 500},
                    },
                }
            },
            "application/json": {"schema": TextDocumentIn.model_json_schema()},
        },
    }
}


@router.post(
    "/documents",
    status_code=201,
    operation_id="addKbDocument",
    openapi_extra=_DOCUMENT_BODY,
    responses=errors(413, 415),
)
async def add_document(principal: Operator, kb: KnowledgeBaseDep, request: Request) -> DocumentOut:
    """Add a document (redacted unless the tenant turned redaction off, chunked, embedded)."""
    doc = await _document_in(request, kb.config.max_bytes)
    try:
        row = await kb.add_document(principal.tenant_id, doc, created_by=_who(principal))
    except UnicodeDecodeError:
        raise BadDocument("text is not valid UTF-8", "binary") from None
    return DocumentOut.of(row)


@router.get("/documents", operation_id="listKbDocuments")
async def list_documents(
    principal: Viewer,
    kb: KnowledgeBaseDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DocumentList:
    """Newest first."""
    docs, total = await kb.list_documents(principal.tenant_id, limit=limit, offset=offset)
    return DocumentList(documents=[DocumentOut.of(d) for d in docs], total=total)


@router.get("/documents/{document_id}", operation_id="getKbDocument")
async def get_document(
    principal: Viewer, kb: KnowledgeBaseDep, document_id: uuid.UUID
) -> DocumentOut:
    return DocumentOut.of(await kb.get_document(principal.tenant_id, document_id))


@router.delete("/documents/{document_id}", status_code=204, operation_id="deleteKbDocument")
async def delete_document(
    principal: Operator, kb: KnowledgeBaseDep, document_id: uuid.UUID
) -> Response:
    """Delete a document and its chunks; searches stop returning it at once."""
    await kb.delete_document(principal.tenant_id, document_id)
    return Response(status_code=204)


@router.get("/search", operation_id="searchKb")
async def search(
    principal: Viewer,
    kb: KnowledgeBaseDep,
    q: Annotated[str, Query(min_length=1, max_length=2_000, description="The question.")],
    k: Annotated[int | None, Query(ge=1, le=100)] = None,
    mode: SearchMode = SearchMode.HYBRID,
) -> SearchOut:
    """Documents of the caller's tenant best matching ``q``, best first, each with its best
    passage, its BM25 and dense scores and ranks, and the RRF-fused score."""
    hits = await kb.search(principal.tenant_id, q, k=k, mode=mode)
    return SearchOut(
        query=q, mode=mode, k=k or kb.config.default_k, hits=[HitOut.of(h) for h in hits]
    )


@router.get("/settings", operation_id="getKbSettings")
async def get_settings(principal: Viewer, kb: KnowledgeBaseDep) -> KBSettingsIO:
    return KBSettingsIO(pii_redaction=await kb.pii_redaction(principal.tenant_id))


@router.put("/settings", operation_id="putKbSettings")
async def put_settings(principal: Admin, kb: KnowledgeBaseDep, body: KBSettingsIO) -> KBSettingsIO:
    """Applies to documents added from now on."""
    on = await kb.set_pii_redaction(principal.tenant_id, body.pii_redaction, _who(principal))
    return KBSettingsIO(pii_redaction=on)
