"""What a new tenant or user is made of, validated the same way wherever it comes from
(the API's request bodies and the ``autonomos tenants``/``users`` commands)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from autonomos.store.models import Role

Password = Field(min_length=12, max_length=256, description="At least 12 characters.")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterIn(Strict):
    tenant_name: str = Field(min_length=2, max_length=200)
    email: EmailStr
    password: str = Password
    full_name: str = Field("", max_length=200)


class UserCreate(Strict):
    email: EmailStr
    password: str = Password
    role: Role = Role.VIEWER
    full_name: str = Field("", max_length=200)
