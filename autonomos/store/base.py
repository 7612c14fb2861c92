"""Declarative base, portable column types and the tenant-owned mixin.

Every table that holds a tenant's data inherits :class:`TenantOwned`; the session layer
(`store.session`) refuses to query such a table without a tenant context, and on
Postgres the migrations enable and FORCE row-level security on it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime, uuid.UUID: Uuid}


class TenantOwned:
    """Mixin for tenant-owned tables: ``tenant_id UUID NOT NULL`` with an index."""

    __tenant_owned__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(Uuid, nullable=False, index=True, info={TENANT_KEY_INFO: True})


TENANT_KEY_INFO = "tenant_key"


def is_tenant_owned_table(table: Any) -> bool:
    """True for a Table whose ``tenant_id`` column came from :class:`TenantOwned`."""
    column = table.c.get("tenant_id") if hasattr(table, "c") else None
    return column is not None and bool(column.info.get(TENANT_KEY_INFO))


def tenant_owned_tables() -> list[str]:
    """Names of every tenant-owned table among the imported models."""
    return sorted(
        m.local_table.name  # type: ignore[attr-defined]
        for m in Base.registry.mappers
        if getattr(m.class_, "__tenant_owned__", False)
    )
