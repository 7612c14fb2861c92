"""FastAPI dependencies, as ``Annotated`` aliases so routes read like plain functions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.auth.service import AuthError, AuthService
from autonomos.auth.session_state import Principal
from autonomos.auth.tokens import TokenError
from autonomos.config import Settings
from autonomos.serve_apps.api.errors import ApiError
from autonomos.store.models import Role
from autonomos.store.session import Database

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


# Dependencies are ``async def``: a plain ``def`` dependency costs a thread-pool hop per
# request in FastAPI, which dominated the latency profile of /auth/me.
def _state(request: Request) -> Any:
    return request.app.state


async def get_settings(request: Request) -> Settings:
    return _state(request).settings


async def get_db(request: Request) -> Database:
    return _state(request).db


async def get_auth(request: Request) -> AuthService:
    return _state(request).auth


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
AuthDep = Annotated[AuthService, Depends(get_auth)]


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


async def current_principal(
    auth: AuthDep, token: Annotated[str | None, Depends(oauth2)]
) -> Principal:
    """The caller, with their current role: a demoted, deactivated or logged-out user's
    token stops working (at once here, within ``auth_state_cache_s`` on other replicas)."""
    if not token:
        raise _unauthorized("missing bearer token")
    try:
        return await auth.authenticate(token)
    except TokenError as e:
        raise _unauthorized(f"invalid token: {e}") from None
    except AuthError as e:
        raise _unauthorized(str(e)) from None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(role: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: the caller's role must be ``role`` or stronger."""

    async def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.role.allows(role):
            raise ApiError(403, "forbidden", f"this action needs the {role.value} role")
        return principal

    return _check


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


async def tenant_session(db: DbDep, principal: CurrentPrincipal) -> AsyncIterator[AsyncSession]:
    """A transaction scoped to the caller's tenant.

    It commits when the route function returns and *before* the response is sent
    (``scope="function"``): a client that reads right after a 2xx sees the write, and a
    commit that fails answers with an error instead of a 2xx.
    """
    async with db.tenant_session(principal.tenant_id) as session:
        yield session


TenantSession = Annotated[AsyncSession, Depends(tenant_session, scope="function")]


async def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


RequestId = Annotated[str | None, Depends(request_id)]
