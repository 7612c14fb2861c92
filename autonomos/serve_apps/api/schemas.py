"""Request and response models of the platform routes."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, StrictBool

# Request bodies shared with the CLI live in the core:
from autonomos.auth.inputs import Password as Password
from autonomos.auth.inputs import RegisterIn as RegisterIn
from autonomos.auth.inputs import Strict as Strict
from autonomos.auth.inputs import UserCreate as UserCreate
from autonomos.store.models import Role


def _iso_date(value: Any) -> Any:
    # pydantic also reads numbers ("0") as Unix times; the API's dates are ISO 8601 only
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class RegisterOut(BaseModel):
    """The same for every registration: it never says whether the e-mail was taken."""

    status: str = "accepted"
    message: str = "if the e-mail had no account, its tenant and admin now exist: log in"


class LoginIn(Strict):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=10, max_length=512)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 (OAuth2 token type, not a secret)
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime


class UserUpdate(Strict):
    full_name: str | None = Field(None, max_length=200)
    role: Role | None = None
    is_active: StrictBool | None = None


class UserList(BaseModel):
    users: list[UserOut]
    total: int


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: datetime


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None
    action: str
    target_type: str
    target_id: str | None
    request_id: str | None
    details: dict[str, Any]


class AuditList(BaseModel):
    entries: list[AuditOut]
