"""The OpenAPI document states every error a route can answer, in the one error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from autonomos.serve_apps.api.errors import operation_errors
from tests.security.harness import operations


@pytest.fixture
async def doc(api: httpx.AsyncClient) -> dict[str, Any]:
    return (await api.get("/openapi.json")).json()


async def test_every_error_response_is_documented_in_the_one_shape(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's 422 shape, never sent here
    assert schemas["ErrorOut"]["required"] == ["error"]
    for op in operations(doc):
        responses = op.doc["responses"]
        errors = {int(s) for s in responses if int(s) >= 400}
        assert {429, 500} <= errors, op.label
        for status in operation_errors(op.method, op.path, op.doc):
            schema = responses[str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (op.label, status)
        for status in errors:  # a route's own (readyz's 503) has a schema too
            assert responses[str(status)]["content"]["application/json"]["schema"], op.label
        if op.doc.get("security"):
            assert {401, 404} <= errors, op.label
        if "{" in op.path:
            assert 404 in errors, op.label
        if "requestBody" in op.doc:
            assert {400, 413, 415, 422} <= errors, op.label
        if op.doc.get("parameters"):
            assert 422 in errors, op.label


async def test_roles_are_scopes_and_only_role_checked_routes_document_403(
    doc: dict[str, Any],
) -> None:
    scopes = {
        op.label: {s for req in op.doc.get("security", []) for s in next(iter(req.values()))}
        for op in operations(doc)
    }
    assert scopes["GET /api/v1/users"] == {"admin"}
    assert scopes["POST /api/v1/aam/connections"] == {"operator"}
    assert scopes["GET /api/v1/aam/connections"] == set()
    for op in operations(doc):
        assert ("403" in op.doc["responses"]) == bool(scopes[op.label]), op.label


async def test_405_names_every_method_of_the_path(api: httpx.AsyncClient) -> None:
    for method, path, allowed in [
        ("DELETE", "/api/v1/users", "GET, POST"),
        (
            "PUT",
            "/api/v1/aam/connections/3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "DELETE, GET, PATCH",
        ),
        ("PATCH", "/api/v1/dcl/mappings", "GET, PUT"),
        ("DELETE", "/healthz", "GET"),
    ]:
        r = await api.request(method, path)
        assert r.status_code == 405 and r.headers["allow"] == allowed, (path, r.headers)
        assert r.json()["error"]["code"] == "method_not_allowed"


async def test_request_models_refuse_what_their_schema_refuses(
    api: httpx.AsyncClient, tenant_a: Any
) -> None:
    """Found by the fuzz run: numbers read as dates or booleans, unbounded pages."""
    h = tenant_a.headers
    for method, url, body in [
        ("GET", "/api/v1/telemetry/llm?until=0", None),
        ("GET", "/api/v1/users?offset=10000000000000000000000000000", None),
        ("GET", "/api/v1/users?limit=0", None),
        ("GET", "/api/v1/audit?limit=-1", None),
        ("PUT", "/api/v1/repair/settings", {"notify": 0}),
        ("POST", "/api/v1/dcl/materialize", {"connection_id": None, "full": 1}),
    ]:
        r = await api.request(method, url, json=body, headers=h)
        assert r.status_code == 422, (url, r.status_code, r.text)
        assert r.json()["error"]["code"] == "validation_error"
    r = await api.post(
        "/api/v1/users", content=b"\xff\xfe", headers={**h, "content-type": "application/json"}
    )
    assert r.status_code in (400, 422) and set(r.json()) == {"error"}
