"""/nlp/v1/kb on SQLite and Postgres (FAISS there: the machine's Postgres has no
pgvector; tests/integration/nlp/test_pgvector.py covers pgvector): uploads of each kind,
bad uploads as 4xx, PII redacted before indexing, search modes, roles, not-found and
cross-tenant cases."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import Tenant, register
from tests.unit.nlp.kb.pdf import make_pdf

KB = "/nlp/v1/kb"


def error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return body["error"]


async def user(api: httpx.AsyncClient, admin: Tenant, role: str) -> Tenant:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    r = await api.post(
        "/api/v1/users",
        headers=admin.headers,
        json={"email": email, "password": "long enough pw", "role": role},
    )
    assert r.status_code == 201, r.text
    login = await api.post(
        "/api/v1/auth/login", json={"email": email, "password": "long enough pw"}
    )
    return Tenant(admin.name, email, "long enough pw", login.json())


async def upload(
    api: httpx.AsyncClient, t: Tenant, name: str, content: bytes, ctype: str
) -> httpx.Response:
    return await api.post(
        f"{KB}/documents", headers=t.headers, files={"file": (name, content, ctype)}
    )


async def test_upload_kinds_and_search(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    md = b"# Refund policy\n\nRefunds are paid within **14 days** to the original card."
    r = await upload(api, tenant_a, "refunds.md", md, "text/markdown")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["media_type"] == "text/markdown" and doc["chunk_count"] == 1
    pdf = make_pdf("Shipping takes three business days within the European Union.")
    r = await upload(api, tenant_a, "shipping.pdf", pdf, "application/pdf")
    assert r.status_code == 201, r.text
    assert r.json()["media_type"] == "application/pdf"
    r = await api.post(
        f"{KB}/documents",
        headers=tenant_a.headers,
        json={"text": "Our office dog is called Biscuit and loves walks.", "title": "Office"},
    )
    assert r.status_code == 201, r.text

    for mode in ("hybrid", "bm25", "dense"):
        r = await api.get(
            f"{KB}/search",
            headers=tenant_a.headers,
            params={"q": "how long do refunds take", "mode": mode, "k": 2},
        )
        assert r.status_code == 200, r.text
        hits = r.json()["hits"]
        assert hits and hits[0]["document_id"] == doc["id"], (mode, hits)
        assert "14 days" in hits[0]["text"]
    top = r.json()["hits"][0]
    hybrid = (
        await api.get(f"{KB}/search", headers=tenant_a.headers, params={"q": "refunds card"})
    ).json()["hits"][0]
    assert hybrid["bm25"] is not None and hybrid["dense"] is not None
    assert hybrid["fused"] == pytest.approx(
        1 / (60 + hybrid["bm25_rank"]) + 1 / (60 + hybrid["dense_rank"])
    )
    assert top["dense"] is not None and top["bm25"] is None

    listed = (await api.get(f"{KB}/documents", headers=tenant_a.headers)).json()
    assert listed["total"] == 3 and len(listed["documents"]) == 3
    assert (
        await api.delete(f"{KB}/documents/{doc['id']}", headers=tenant_a.headers)
    ).status_code == 204
    error(await api.get(f"{KB}/documents/{doc['id']}", headers=tenant_a.headers), 404, "not_found")
    hits = (
        await api.get(f"{KB}/search", headers=tenant_a.headers, params={"q": "refunds 14 days"})
    ).json()["hits"]
    assert doc["id"] not in {h["document_id"] for h in hits}


async def test_pii_redacted_before_indexing_unless_turned_off(
    api: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    text = "Contact Maria Jensen at maria.jensen@example.com or +44 20 7946 0958 about invoices."
    r = await api.post(f"{KB}/documents", headers=tenant_a.headers, json={"text": text})
    assert r.status_code == 201, r.text
    assert r.json()["pii_redacted"] is True
    assert r.json()["redactions"] == {"PERSON": 1, "EMAIL": 1, "PHONE": 1}
    hits = (
        await api.get(f"{KB}/search", headers=tenant_a.headers, params={"q": "invoices contact"})
    ).json()["hits"]
    passage = hits[0]["text"]
    assert "[EMAIL]" in passage and "maria" not in passage.lower() and "7946" not in passage
    hits = (
        await api.get(
            f"{KB}/search",
            headers=tenant_a.headers,
            params={"q": "maria.jensen@example.com", "mode": "bm25"},
        )
    ).json()["hits"]
    assert all("maria" not in (h["text"] or "").lower() for h in hits)

    viewer = await user(api, tenant_a, "viewer")
    error(
        await api.put(f"{KB}/settings", headers=viewer.headers, json={"pii_redaction": False}),
        403,
        "forbidden",
    )
    r = await api.put(f"{KB}/settings", headers=tenant_a.headers, json={"pii_redaction": False})
    assert r.json() == {"pii_redaction": False}
    assert (await api.get(f"{KB}/settings", headers=viewer.headers)).json() == {
        "pii_redaction": False
    }
    r = await api.post(f"{KB}/documents", headers=tenant_a.headers, json={"text": text})
    assert r.json()["pii_redacted"] is False and r.json()["redactions"] == {}


@pytest.mark.parametrize(
    ("name", "content", "ctype", "status", "code"),
    [
        ("empty.txt", b"", "text/plain", 422, "invalid_document"),
        ("blank.txt", b"   \n\t ", "text/plain", 422, "invalid_document"),
        ("garbage.txt", bytes(range(256)) * 8, "text/plain", 422, "invalid_document"),
        ("latin1.txt", "café crème".encode("latin-1"), "text/plain", 422, "invalid_document"),
        (
            "image.png",
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
            "image/png",
            415,
            "unsupported_media_type",
        ),
        (
            "archive.zip",
            b"PK\x03\x04" + b"\x00" * 64,
            "application/zip",
            415,
            "unsupported_media_type",
        ),
        (
            "broken.pdf",
            b"%PDF-1.4\n this is not really a pdf",
            "application/pdf",
            422,
            "invalid_document",
        ),
        (
            "binary.bin",
            b"\x00\x01\x02" * 100,
            "application/octet-stream",
            415,
            "unsupported_media_type",
        ),
        ("notes", b"\x00\x01\x02" * 100, "application/octet-stream", 422, "invalid_document"),
    ],
)
async def test_bad_uploads_are_4xx(
    api: httpx.AsyncClient,
    tenant_a: Tenant,
    name: str,
    content: bytes,
    ctype: str,
    status: int,
    code: str,
) -> None:
    error(await upload(api, tenant_a, name, content, ctype), status, code)


async def test_upload_size_limit(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    limit = api.runtime.kb.config.max_bytes  # type: ignore[attr-defined]
    err = error(
        await upload(api, tenant_a, "big.txt", b"a " * (limit // 2 + 1), "text/plain"),
        413,
        "payload_too_large",
    )
    assert str(limit) in err["message"]
    # far beyond: the body limit refuses it before the route reads it
    error(
        await upload(api, tenant_a, "huge.txt", b"a" * (limit + 200_000), "text/plain"),
        413,
        "payload_too_large",
    )
    error(
        await api.post(
            f"{KB}/documents",
            headers={**tenant_a.headers, "content-type": "text/csv"},
            content=b"a,b",
        ),
        415,
        "unsupported_media_type",
    )
    error(
        await api.post(f"{KB}/documents", headers=tenant_a.headers, json={"text": ""}),
        422,
        "validation_error",
    )


async def test_roles_auth_and_bad_queries(api: httpx.AsyncClient, tenant_a: Tenant) -> None:
    error(await api.get(f"{KB}/documents"), 401, "unauthorized")
    error(await api.get(f"{KB}/search", params={"q": "x"}), 401, "unauthorized")
    error(await api.post(f"{KB}/documents", json={"text": "x"}), 401, "unauthorized")
    viewer = await user(api, tenant_a, "viewer")
    error(
        await api.post(f"{KB}/documents", headers=viewer.headers, json={"text": "notes"}),
        403,
        "forbidden",
    )
    r = await api.post(
        f"{KB}/documents", headers=tenant_a.headers, json={"text": "quarterly notes"}
    )
    error(
        await api.delete(f"{KB}/documents/{r.json()['id']}", headers=viewer.headers),
        403,
        "forbidden",
    )
    assert (
        await api.get(f"{KB}/search", headers=viewer.headers, params={"q": "notes"})
    ).status_code == 200
    operator = await user(api, tenant_a, "operator")
    assert (
        await api.post(f"{KB}/documents", headers=operator.headers, json={"text": "more notes"})
    ).status_code == 201
    error(
        await api.get(f"{KB}/search", headers=viewer.headers, params={"q": "  "}),
        422,
        "validation_error",
    )
    error(
        await api.get(f"{KB}/search", headers=viewer.headers, params={"q": "x", "k": 0}),
        422,
        "validation_error",
    )
    error(
        await api.get(f"{KB}/search", headers=viewer.headers, params={"q": "x", "mode": "magic"}),
        422,
        "validation_error",
    )
    error(await api.get(f"{KB}/documents/{uuid.uuid4()}", headers=viewer.headers), 404, "not_found")
    error(
        await api.delete(f"{KB}/documents/{uuid.uuid4()}", headers=tenant_a.headers),
        404,
        "not_found",
    )
    error(
        await api.get(f"{KB}/documents/not-a-uuid", headers=viewer.headers), 422, "validation_error"
    )


async def test_another_tenants_documents_are_invisible(api: httpx.AsyncClient) -> None:
    a, b = await register(api, "kb-a"), await register(api, "kb-b")
    secret = "The launch code for project Bluebird is kept in the blue binder."
    doc = (await api.post(f"{KB}/documents", headers=a.headers, json={"text": secret})).json()
    await api.post(f"{KB}/documents", headers=b.headers, json={"text": "Gardening tips for roses."})
    for mode in ("hybrid", "bm25", "dense"):
        hits = (
            await api.get(
                f"{KB}/search",
                headers=b.headers,
                params={"q": "launch code Bluebird binder", "mode": mode, "k": 100},
            )
        ).json()["hits"]
        assert doc["id"] not in {h["document_id"] for h in hits}
        assert all("Bluebird" not in (h["text"] or "") for h in hits)
    listed = (await api.get(f"{KB}/documents", headers=b.headers)).json()
    assert doc["id"] not in {d["id"] for d in listed["documents"]} and listed["total"] == 1
    # another tenant's document answers exactly like a missing one
    missing = (await api.get(f"{KB}/documents/{uuid.uuid4()}", headers=b.headers)).json()
    theirs = error(
        await api.get(f"{KB}/documents/{doc['id']}", headers=b.headers), 404, "not_found"
    )
    assert theirs == missing["error"]  # the same answer, word for word
    error(await api.delete(f"{KB}/documents/{doc['id']}", headers=b.headers), 404, "not_found")
    assert (await api.get(f"{KB}/documents/{doc['id']}", headers=a.headers)).status_code == 200
