"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from autonomos.serve_apps.api.deps import DbDep, SettingsDep
from autonomos.store.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz")
async def healthz() -> dict[str, str]:
    """The process is up (no dependency is checked)."""
    return {"status": "ok"}


class Readiness(BaseModel):
    status: str  # ok | unavailable
    head: str | None
    revision: str | None = None
    database: str  # ok | migrations pending | unreachable
    redis: str | None = None  # when configured: ok | unreachable


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
async def readyz(db: DbDep, settings: SettingsDep) -> JSONResponse:
    """The database answers with its schema at the migrations' head; Redis answers if set."""
    body: dict[str, str | None] = {"head": head_revision()}
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        body["revision"] = await current_revision(db.url)
        body["database"] = "ok" if body["revision"] == body["head"] else "migrations pending"
    except Exception:  # any database failure means "not ready", never a 500
        body["database"] = "unreachable"
    if settings.redis_url:
        body["redis"] = "ok" if await _redis_ok(settings.redis_url) else "unreachable"
    ok = body["database"] == "ok" and body.get("redis", "ok") == "ok"
    body["status"] = "ok" if ok else "unavailable"
    return JSONResponse(body, 200 if ok else 503)


async def _redis_ok(url: str) -> bool:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(await client.ping())
    except Exception:  # unreachable, auth refused, bad URL: all "not ready"
        return False
    finally:
        await client.aclose()
