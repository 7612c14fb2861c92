"""/api/v1/users: admins manage the users of their own tenant."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import func, select

from autonomos.auth.service import audit
from autonomos.serve_apps.api.deps import Admin, AuthDep, RequestId, TenantSession
from autonomos.serve_apps.api.errors import ApiError
from autonomos.serve_apps.api.schemas import UserCreate, UserList, UserOut, UserUpdate
from autonomos.store.errors import NotFound
from autonomos.store.models import Role, User

router = APIRouter(prefix="/api/v1/users", tags=["users"])


async def _get(session: TenantSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:  # another tenant's id lands here too: same answer as a missing one
        raise NotFound("user not found")
    return user


@router.get("", operation_id="listUsers")
async def list_users(
    _: Admin,
    session: TenantSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> UserList:
    rows = await session.scalars(select(User).order_by(User.created_at).limit(limit).offset(offset))
    total = await session.scalar(select(func.count()).select_from(User)) or 0
    return UserList(users=[UserOut.model_validate(u) for u in rows], total=total)


@router.post("", operation_id="createUser", status_code=status.HTTP_201_CREATED)
async def create_user(
    body: UserCreate, admin: Admin, session: TenantSession, auth: AuthDep, rid: RequestId
) -> UserOut:
    user = await auth.create_user(session, body.email, body.password, body.role, body.full_name)
    await audit(
        session,
        "user.create",
        "user",
        user.id,
        actor_id=admin.user_id,
        request_id=rid,
        role=user.role.value,
    )
    return UserOut.model_validate(user)


@router.get("/{user_id}", operation_id="getUser")
async def get_user(user_id: uuid.UUID, _: Admin, session: TenantSession) -> UserOut:
    return UserOut.model_validate(await _get(session, user_id))


@router.patch("/{user_id}", operation_id="updateUser")
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, admin: Admin, session: TenantSession, rid: RequestId
) -> UserOut:
    user = await _get(session, user_id)
    changes = body.model_dump(exclude_none=True)
    if user.id == admin.user_id and (
        changes.get("is_active") is False or changes.get("role", Role.ADMIN) != Role.ADMIN
    ):
        raise ApiError(409, "conflict", "an admin cannot demote or deactivate themselves")
    before = {k: getattr(user, k) for k in changes}
    for key, value in changes.items():
        setattr(user, key, value)
    await session.flush()
    await audit(
        session,
        "user.update",
        "user",
        user.id,
        actor_id=admin.user_id,
        request_id=rid,
        before={k: str(v) for k, v in before.items()},
        after={k: str(v) for k, v in changes.items()},
    )
    return UserOut.model_validate(user)
