"""FastAPI dependencies, as ``Annotated`` aliases so routes read like plain functions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.auth.service import AuthService
from autonomos.auth.tokens import TokenError
from autonomos.config import Settings
from autonomos.nlp.kb import KnowledgeBase
from autonomos.serve_apps.api.errors import ApiError
from autonomos.store.models import Role
from autonomos.store.session import Database

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


@dataclass(frozen=True)
class Principal:
    """Who is calling, from a verified access token."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: Role


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


async def get_kb(request: Request) -> KnowledgeBase:
    return _state(request).kb


SettingsDep = Annotated[Settings, Depends(get_settings)]
KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(get_kb)]
DbDep = Annotated[Database, Depends(get_db)]
AuthDep = Annotated[AuthService, Depends(get_auth)]


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


async def current_principal(
    auth: AuthDep, token: Annotated[str | None, Depends(oauth2)]
) -> Principal:
    if not token:
        raise _unauthorized("missing bearer token")
    try:
        claims = auth.keys.decode(token)
        role = Role(claims.role)
    except (TokenError, ValueError) as e:
        raise _unauthorized(
            f"invalid token: {e}" if isinstance(e, TokenError) else "invalid token"
        ) from None
    return Principal(uuid.UUID(claims.sub), uuid.UUID(claims.tid), role)


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
    """A transaction scoped to the caller's tenant; commits when the route returns."""
    async with db.tenant_session(principal.tenant_id) as session:
        yield session


TenantSession = Annotated[AsyncSession, Depends(tenant_session)]


async def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


RequestId = Annotated[str | None, Depends(request_id)]
