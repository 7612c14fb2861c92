"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Unexpected exceptions are logged with the request id and answered 500 with that id
only: no stack trace or exception text reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from autonomos.auth.service import AuthError, LoginLocked
from autonomos.auth.tokens import TokenError
from autonomos.connectors.base import ConnectorError, FailureType
from autonomos.models.errors import EmbedderError
from autonomos.nlp.errors import (
    BadDocument,
    BadQuery,
    DocumentNotFound,
    DocumentTooLarge,
    NLPError,
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


def _clean_validation(errors: Sequence[Any]) -> list[dict[str, Any]]:
    # Drop the echoed input and pydantic's URLs: a body may hold a password.
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors
    ]


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
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return _respond(ApiError(exc.status_code, code, str(exc.detail), headers=exc.headers))

    @app.exception_handler(LoginLocked)
    async def _locked(_: Request, exc: LoginLocked) -> JSONResponse:
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

    @app.exception_handler(NLPError)
    async def _nlp(_: Request, exc: NLPError) -> JSONResponse:
        if isinstance(exc, DocumentNotFound):
            return _respond(ApiError(404, "not_found", str(exc)))
        if isinstance(exc, DocumentTooLarge):
            return _respond(ApiError(413, "payload_too_large", str(exc), {"limit": exc.limit}))
        if isinstance(exc, UnsupportedType):
            return _respond(ApiError(415, "unsupported_media_type", str(exc)))
        if isinstance(exc, BadDocument):
            return _respond(ApiError(422, "invalid_document", str(exc), {"reason": exc.reason}))
        if isinstance(exc, BadQuery):
            return _respond(ApiError(422, "validation_error", str(exc)))
        return _respond(ApiError(500, "internal_error", "knowledge base error"))

    @app.exception_handler(EmbedderError)
    async def _embedder(_: Request, exc: EmbedderError) -> JSONResponse:
        return _respond(ApiError(503, "model_unavailable", "the embedding model is unavailable"))

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _respond(ApiError(404, "not_found", str(exc)))

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return _respond(ApiError(409, "conflict", str(exc)))

    @app.exception_handler(TenantContextError)
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
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
