"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Every package's errors derive from :class:`~autonomos.common.errors.AutonomosError`; one
handler answers them all, by the most specific class listed in :data:`STATUS` (routes
never translate errors themselves). Unexpected exceptions are logged with the request id
and answered 500 with that id only: no stack trace or exception text reaches a client.
That answer comes from ``RequestContextMiddleware`` (see middleware.py), not from a
handler here: Starlette re-raises after its ``Exception`` handler, which closes the
keep-alive connection.

The OpenAPI document says so for every operation (:func:`document_errors`): the error
responses the framework layers can give any route (authentication, roles, tenant
scoping, body and parameter validation, conflicts, throttling, unexpected failures) are
added from each operation's own description, all with the :class:`ErrorOut` schema; a
route or router adds its own upstream or semantic errors with ``responses=errors(...)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from autonomos.aam.errors import InvalidDecision
from autonomos.agents.errors import (
    AgentAuthError,
    AgentConflict,
    AgentInputError,
    AgentNotFound,
    InvalidRunTransition,
)
from autonomos.auth.errors import AuthError, LoginThrottled, RegistrationClosed
from autonomos.auth.tokens import TokenError
from autonomos.common.errors import AutonomosError, FailureType
from autonomos.common.states import InvalidTransition
from autonomos.connectors.base import ConnectorError
from autonomos.dcl.errors import (
    DCLUnavailable,
    MappingError,
    QueryRejected,
    QueryTimeout,
    UnknownView,
    ViewRequestError,
)
from autonomos.jobs.errors import JobServerError, JobServerUnavailable, JobStateError
from autonomos.models.errors import EmbedderError, LLMBudgetExceeded, LLMError
from autonomos.nlp.errors import (
    BadDocument,
    BadQuery,
    DocumentNotFound,
    DocumentTooLarge,
    UnsupportedType,
)
from autonomos.store.errors import Conflict, NotFound, TenantContextError

log = logging.getLogger("autonomos.api")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable, machine-readable: not_found, validation_error, ...")
    message: str = Field(description="What went wrong, for a person.")
    details: Any = Field(None, description="Structured context (validation errors, ...).")


class ErrorOut(BaseModel):
    """Every error response: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorInfo


ERROR_DESCRIPTIONS = {
    400: "Refused: the body could not be parsed, or the request is not acceptable as it "
    "stands; the message says why.",
    401: "Missing, invalid or expired bearer token.",
    403: "The caller's role does not allow this.",
    404: "No such object in the caller's tenant (another tenant's answers the same).",
    409: "Conflicts with the current state (a duplicate, a decided proposal, ...).",
    413: "The request body is larger than AUTONOMOS_MAX_BODY_BYTES.",
    415: "Unsupported request content type.",
    422: "The request does not match this operation's schema; details lists each error.",
    429: "Too many requests or failed attempts; retry after Retry-After seconds.",
    500: "Unexpected failure; details.request_id finds it in the server log.",
    502: "An upstream system (a data source, the job server) failed.",
    503: "A dependency is unavailable for now; retry later.",
    504: "An upstream system did not answer in time.",
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route or router: these error statuses, in the one shape."""
    return {s: {"model": ErrorOut, "description": ERROR_DESCRIPTIONS[s]} for s in statuses}


def operation_errors(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses any operation like this one can answer, read off its OpenAPI
    description: authentication (``security``), a role (its OAuth2 scopes), path ids,
    a body, parameters, a write."""
    security = operation.get("security") or []
    statuses = {429, 500}
    if security:
        statuses |= {401, 404}  # tenant-scoped: anything it names may not be the tenant's
    if any(scopes for requirement in security for scopes in requirement.values()):
        statuses.add(403)
    if "{" in path:
        statuses.add(404)
    if method.upper() in _WRITES:
        statuses.add(409)  # store.Conflict (a uniqueness rule) answers 409 on any write
    if "requestBody" in operation:
        statuses |= {400, 413, 415, 422}  # 400: a body that is not text (FastAPI's parser)
    if operation.get("parameters"):
        statuses.add(422)
    return sorted(statuses)


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` document every operation's error responses (see the module
    docstring); FastAPI's own 422 schema, which this API never sends, is replaced."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = build()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        shape = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(shape.pop("$defs", {}))
        schemas["ErrorOut"] = shape
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for path, item in doc.get("paths", {}).items():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                for status in operation_errors(method, path, operation):
                    documented = responses.setdefault(
                        str(status), {"description": ERROR_DESCRIPTIONS[status]}
                    )
                    documented["content"] = content
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _respond(err: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(err.code, err.message, err.details), err.status, headers=err.headers
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


# Platform errors -> (HTTP status, error code); the most specific class of an error wins.
# Anything not listed (a bug, a broken invariant) is a 500.
STATUS: dict[type[Exception], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    UnknownView: (404, "not_found"),
    Conflict: (409, "conflict"),
    InvalidTransition: (409, "conflict"),
    JobStateError: (409, "conflict"),
    MappingError: (422, "invalid_mapping"),
    InvalidDecision: (422, "validation_error"),
    ViewRequestError: (400, "bad_request"),
    QueryRejected: (400, "query_rejected"),
    QueryTimeout: (400, "query_timeout"),
    DCLUnavailable: (503, "dcl_unavailable"),
    JobServerUnavailable: (503, "job_server_unavailable"),
    JobServerError: (502, "job_server_error"),
    DocumentNotFound: (404, "not_found"),
    DocumentTooLarge: (413, "payload_too_large"),
    UnsupportedType: (415, "unsupported_media_type"),
    BadDocument: (422, "invalid_document"),
    BadQuery: (422, "validation_error"),
    EmbedderError: (503, "model_unavailable"),
    LLMBudgetExceeded: (429, "llm_budget_exceeded"),
    LLMError: (503, "llm_unavailable"),
    AgentNotFound: (404, "not_found"),
    AgentConflict: (409, "conflict"),
    InvalidRunTransition: (409, "conflict"),
    AgentInputError: (422, "validation_error"),
}
# Errors whose message is the operator's business (paths, endpoints): a fixed one is shown.
OPAQUE: dict[type[Exception], str] = {
    EmbedderError: "the embedding model is unavailable",
    LLMError: "the language model is unavailable",
}


def status_of(exc: BaseException) -> tuple[int, str] | None:
    """The (status, code) an error answers with, by its most specific listed class."""
    for cls in type(exc).__mro__:
        found = STATUS.get(cls)
        if found is not None:
            return found
    return None


def _clean_validation(errors: Sequence[Any]) -> list[dict[str, Any]]:
    # Drop the echoed input and pydantic's URLs: a body may hold a password.
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors
    ]


def _allowed(request: Request) -> str | None:
    """Every method the OpenAPI document gives the request's path (a 405's ``Allow``);
    None for a path it does not describe."""
    methods = {
        method.upper()
        for template, item in request.app.openapi().get("paths", {}).items()
        if compile_path(template)[0].match(request.url.path)
        for method in item
    }
    return ", ".join(sorted(methods)) or None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _respond(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _respond(
            ApiError(422, "validation_error", "request is invalid", _clean_validation(exc.errors()))
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = exc.headers
        allowed = _allowed(request) if exc.status_code == 405 else None
        if allowed:  # the router names the methods of one route of the path, at most
            headers = {**(headers or {}), "Allow": allowed}
        return _respond(ApiError(exc.status_code, code, str(exc.detail), headers=headers))

    @app.exception_handler(RegistrationClosed)
    async def _closed(_: Request, exc: RegistrationClosed) -> JSONResponse:
        return _respond(ApiError(403, "forbidden", str(exc)))

    @app.exception_handler(LoginThrottled)
    async def _throttled(_: Request, exc: LoginThrottled) -> JSONResponse:
        return _respond(
            ApiError(
                429,
                "too_many_requests",
                str(exc),
                {"retry_after_s": exc.retry_after_s},
                headers={"Retry-After": str(exc.retry_after_s)},
            )
        )

    @app.exception_handler(AuthError)
    @app.exception_handler(TokenError)
    @app.exception_handler(AgentAuthError)
    async def _auth(_: Request, exc: Exception) -> JSONResponse:
        return _respond(
            ApiError(401, "unauthorized", str(exc), headers={"WWW-Authenticate": "Bearer"})
        )

    @app.exception_handler(ConnectorError)
    async def _source(_: Request, exc: ConnectorError) -> JSONResponse:
        # A source's own failure: the user's configuration (422) or the source (502).
        if exc.failure is FailureType.CONFIGURATION:
            return _respond(ApiError(422, "invalid_connection", str(exc)))
        return _respond(
            ApiError(502, "source_unavailable", str(exc), {"failure": exc.failure.value})
        )

    @app.exception_handler(AutonomosError)
    async def _platform(request: Request, exc: AutonomosError) -> JSONResponse:
        found = None if isinstance(exc, TenantContextError) else status_of(exc)
        if found is None:
            return await _unexpected(request, exc)
        status, code = found
        message = next((m for cls, m in OPAQUE.items() if isinstance(exc, cls)), str(exc))
        if isinstance(exc, LLMBudgetExceeded):  # its own words: they say when it resets
            message = str(exc)
        retry = getattr(exc, "retry_after_s", None)
        headers = {"Retry-After": str(retry)} if status == 429 and retry else None
        return _respond(ApiError(status, code, message, exc.details, headers=headers))

    @app.exception_handler(TenantContextError)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # a bug, not bad input; answered like any other unexpected error
        request_id = getattr(request.state, "request_id", None)
        log.exception("unhandled error (request_id=%s)", request_id, exc_info=exc)
        return _respond(
            ApiError(
                500,
                "internal_error",
                "internal error; quote the request id",
                {"request_id": request_id},
            )
        )
