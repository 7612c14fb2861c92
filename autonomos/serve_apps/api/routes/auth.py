"""/api/v1/auth: register, login (JSON or OAuth2 form), refresh, logout, me.

None of them tells whether an e-mail or a tenant name exists (see ``auth/service.py``).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import ValidationError

from autonomos.auth.service import TokenPair
from autonomos.serve_apps.api.deps import AuthDep, CurrentPrincipal
from autonomos.serve_apps.api.errors import ApiError, _clean_validation, errors
from autonomos.serve_apps.api.schemas import (
    LoginIn,
    RefreshIn,
    RegisterIn,
    RegisterOut,
    TokenOut,
    UserOut,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=errors(401))


def _tokens(pair: TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post("/register", operation_id="register", status_code=status.HTTP_202_ACCEPTED)
async def register(body: RegisterIn, auth: AuthDep) -> RegisterOut:
    """Create a tenant and its first admin, then log in with that e-mail and password.

    The answer is the same whether or not the e-mail already has an account (then nothing
    is created and its owner is told in their audit log), so it tells nobody which
    e-mails exist. Tenant names need not be unique. 403 when registration is closed.
    """
    await auth.register(body.tenant_name, body.email, body.password, body.full_name)
    return RegisterOut()


_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginIn.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {"type": "string", "description": "E-mail"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            },
        },
    }
}


async def _login_input(request: Request) -> LoginIn:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        form = await request.form()
        data: Any = {"email": form.get("username"), "password": form.get("password")}
    elif ctype == "application/json":
        try:
            data = json.loads(await request.body())
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
            raise ApiError(422, "validation_error", "body is not valid JSON") from None
    else:
        raise ApiError(415, "unsupported_media_type", "send JSON or an OAuth2 password form")
    try:
        return LoginIn.model_validate(data)
    except ValidationError as e:
        raise ApiError(
            422, "validation_error", "request is invalid", _clean_validation(e.errors())
        ) from None


@router.post("/login", operation_id="login", openapi_extra=_LOGIN_BODY)
async def login(request: Request, auth: AuthDep) -> TokenOut:
    """Exchange e-mail and password for tokens.

    Past ``AUTONOMOS_LOGIN_MAX_FAILURES`` wrong passwords for one e-mail from one address,
    each further attempt from that address waits (429 with ``Retry-After``, doubling);
    unknown e-mails are answered exactly the same way.
    """
    body = await _login_input(request)
    client = request.client.host if request.client else None
    _, pair = await auth.login(body.email, body.password, client)
    return _tokens(pair)


@router.post("/refresh", operation_id="refresh")
async def refresh(body: RefreshIn, auth: AuthDep) -> TokenOut:
    """Rotate a refresh token. Re-using a rotated token revokes its whole family."""
    return _tokens(await auth.refresh(body.refresh_token))


@router.post("/logout", operation_id="logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshIn, auth: AuthDep) -> None:
    """End this login: its refresh tokens and its access tokens stop working."""
    await auth.logout(body.refresh_token)


@router.get("/me", operation_id="me")
async def me(principal: CurrentPrincipal) -> UserOut:
    """The calling user, as authentication read them (at most ``auth_state_cache_s`` ago,
    or at once after a change made through this process): no query of its own."""
    state = principal.state
    return UserOut(
        id=principal.user_id,
        tenant_id=principal.tenant_id,
        email=state.email,
        full_name=state.full_name,
        role=state.role,
        is_active=True,  # an inactive user has no principal
        created_at=state.created_at,
    )
