"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from autonomos.serve_apps.api.deps import DbDep
from autonomos.store.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz")
async def healthz() -> dict[str, str]:
    """The process is up (no dependency is checked)."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="readyz", responses={503: {"description": "Not ready"}})
async def readyz(db: DbDep) -> JSONResponse:
    """The database answers and its schema is at the migrations' head."""
    head = head_revision()
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        current = await current_revision(db.url)
    except Exception:  # any database failure means "not ready", never a 500
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    ok = current == head
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "database": "ok", "revision": current, "head": head},
        200 if ok else 503,
    )
