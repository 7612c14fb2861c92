"""FastAPI dependencies, as ``Annotated`` aliases so routes read like plain functions.

The ports come from the process's :class:`~autonomos.runtime.Runtime` (the composition
root builds it at start-up); this module is the only place that knows where the app keeps
it, so routes never read ``request.app.state``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Security
from fastapi.requests import HTTPConnection
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.aam.connections import ConnectionService
from autonomos.aam.repair.agent import RepairService
from autonomos.agents.runner import AgentRunner
from autonomos.auth.service import AuthError, AuthService
from autonomos.auth.session_state import Principal
from autonomos.auth.tokens import TokenError
from autonomos.config import Settings
from autonomos.dcl.changes import MappingChanges
from autonomos.dcl.port import DCLPort
from autonomos.dcl.refresh import ViewRefresher
from autonomos.events.hub import EventHub
from autonomos.events.log import EventLog
from autonomos.jobs.service import JobService
from autonomos.nlp.kb import KnowledgeBase
from autonomos.nlp.personas import PersonaService
from autonomos.runtime import Runtime
from autonomos.serve_apps.api.errors import ApiError
from autonomos.store.models import Role
from autonomos.store.session import Database

# Roles appear in the OpenAPI document as OAuth2 scopes of the routes that need more than
# the weakest one (the token's role decides; no scope is requested or issued).
_B = TypeVar("_B", bound=OAuth2PasswordBearer)


def _bearer_scheme(cls: type[_B]) -> _B:
    return cls(
        tokenUrl="/api/v1/auth/login",
        scopes={"operator": "the operator or admin role", "admin": "the admin role"},
        scheme_name="OAuth2PasswordBearer",  # the token (``oauth2``) and the caller
        auto_error=False,  # (``current_principal``) are one scheme in the document
    )


oauth2 = _bearer_scheme(OAuth2PasswordBearer)


# Dependencies are ``async def``: a plain ``def`` dependency costs a thread-pool hop per
# request in FastAPI, which dominated the latency profile of /auth/me.
# ``HTTPConnection``: the same dependencies serve HTTP routes and WebSocket ones.
async def get_runtime(conn: HTTPConnection) -> Runtime:
    return _runtime(conn)


def _runtime(conn: HTTPConnection) -> Runtime:
    runtime: Runtime = conn.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


async def get_db(runtime: RuntimeDep) -> Database:
    return runtime.db


async def get_auth(runtime: RuntimeDep) -> AuthService:
    return runtime.auth


async def get_dcl(runtime: RuntimeDep) -> DCLPort:
    return runtime.dcl


async def get_refresher(runtime: RuntimeDep) -> ViewRefresher:
    return runtime.refresher


async def get_mappings(runtime: RuntimeDep) -> MappingChanges:
    return runtime.mappings


async def get_repair(runtime: RuntimeDep) -> RepairService:
    return runtime.repair


async def get_connections(runtime: RuntimeDep) -> ConnectionService:
    return runtime.connections


async def get_jobs(runtime: RuntimeDep) -> JobService:
    return runtime.jobs


async def get_agent_runner(runtime: RuntimeDep) -> AgentRunner:
    return runtime.agent_runner


async def get_event_log(runtime: RuntimeDep) -> EventLog:
    return runtime.events


async def get_event_hub(runtime: RuntimeDep) -> EventHub:
    return runtime.live


async def get_kb(runtime: RuntimeDep) -> KnowledgeBase:
    assert runtime.kb is not None, "start_runtime builds the knowledge base"
    return runtime.kb


async def get_personas(runtime: RuntimeDep) -> PersonaService:
    return runtime.personas()


SettingsDep = Annotated[Settings, Depends(get_settings)]
PersonasDep = Annotated[PersonaService, Depends(get_personas)]
KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(get_kb)]
DbDep = Annotated[Database, Depends(get_db)]
AuthDep = Annotated[AuthService, Depends(get_auth)]
DclDep = Annotated[DCLPort, Depends(get_dcl)]
RefresherDep = Annotated[ViewRefresher, Depends(get_refresher)]
MappingsDep = Annotated[MappingChanges, Depends(get_mappings)]
RepairDep = Annotated[RepairService, Depends(get_repair)]
ConnectionsDep = Annotated[ConnectionService, Depends(get_connections)]
JobsDep = Annotated[JobService, Depends(get_jobs)]
AgentRunnerDep = Annotated[AgentRunner, Depends(get_agent_runner)]
EventLogDep = Annotated[EventLog, Depends(get_event_log)]
EventHubDep = Annotated[EventHub, Depends(get_event_hub)]
BearerToken = Annotated[str | None, Depends(oauth2)]


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(request: HTTPConnection, token: str | None) -> Principal:
    """The caller of a bearer token, with their current role: a demoted, deactivated or
    logged-out user's token stops working (at once here, within ``auth_state_cache_s`` on
    other replicas). For routes that look at the token first (an agent's own token)."""
    if not token:
        raise _unauthorized("missing bearer token")
    try:
        return await _runtime(request).auth.authenticate(token)
    except TokenError as e:
        raise _unauthorized(f"invalid token: {e}") from None
    except AuthError as e:
        raise _unauthorized(str(e)) from None


class _BearerPrincipal(OAuth2PasswordBearer):
    """The OAuth2 bearer scheme that answers with the caller (:func:`authenticate`).

    Every authenticated request runs this, so it is one dependency with no dependencies
    of its own (the scheme reads the header, the runtime gives the auth port): each level
    of dependencies FastAPI solves per request was a visible share of a cached
    ``/auth/me``. It is still the security scheme, so the OpenAPI document is unchanged.
    """

    async def __call__(self, request: HTTPConnection) -> Principal:  # type: ignore[override]
        return await authenticate(request, await super().__call__(request))


current_principal = _bearer_scheme(_BearerPrincipal)
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(role: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: the caller's role must be ``role`` or stronger."""

    async def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.role.allows(role):
            raise ApiError(403, "forbidden", f"this action needs the {role.value} role")
        return principal

    return _check


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Security(require(Role.OPERATOR), scopes=[Role.OPERATOR.value])]
Admin = Annotated[Principal, Security(require(Role.ADMIN), scopes=[Role.ADMIN.value])]


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
