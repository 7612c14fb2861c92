"""The audit trail: who did what to which object, in the transaction that did it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.store.models import AuditLog

__all__ = ["audit"]


async def audit(
    session: AsyncSession,
    action: str,
    target_type: str,
    target_id: Any = None,
    *,
    actor_id: uuid.UUID | None = None,
    request_id: str | None = None,
    **details: Any,
) -> None:
    """Append an audit row in the caller's transaction (the tenant comes from the session)."""
    session.add(
        AuditLog(
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            actor_id=actor_id,
            request_id=request_id,
            details=details,
        )
    )
