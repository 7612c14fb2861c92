"""/api/v1/telemetry: the caller's tenant's LLM and embedding usage."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field

from autonomos.models.telemetry import get_recorder, usage_totals
from autonomos.serve_apps.api.deps import SettingsDep, TenantSession, Viewer
from autonomos.serve_apps.api.errors import ApiError
from autonomos.serve_apps.api.schemas import IsoDate

router = APIRouter(prefix="/api/v1/telemetry", tags=["telemetry"])


class UsageOut(BaseModel):
    kind: str = Field(description="`llm` or `embedding`.")
    model: str
    calls: int
    items: int = Field(description="Texts embedded, or LLM answers requested.")
    cached: int = Field(description="Texts answered from the embedding cache.")
    input_tokens: int
    output_tokens: int
    errors: int
    latency_ms_total: float
    latency_ms_avg: float
    first_day: date
    last_day: date


class UsageList(BaseModel):
    since: date | None
    until: date | None
    usage: list[UsageOut]


@router.get("/llm", operation_id="getLlmUsage")
async def llm_usage(
    principal: Viewer,
    session: TenantSession,
    settings: SettingsDep,
    since: IsoDate | None = None,
    until: IsoDate | None = None,
) -> UsageList:
    """Calls, tokens and latency per kind and model, over UTC days ``since..until``
    (inclusive; default all). Includes what this replica has counted but not flushed."""
    if since is not None and until is not None and since > until:
        raise ApiError(422, "validation_error", "since is after until")
    await get_recorder(settings).write_pending(session, principal.tenant_id)
    totals = await usage_totals(session, since, until)
    return UsageList(
        since=since,
        until=until,
        usage=[
            UsageOut(
                kind=t.kind,
                model=t.model,
                calls=t.usage.calls,
                items=t.usage.items,
                cached=t.usage.cached,
                input_tokens=t.usage.input_tokens,
                output_tokens=t.usage.output_tokens,
                errors=t.usage.errors,
                latency_ms_total=round(t.usage.latency_ms, 3),
                latency_ms_avg=round(t.usage.latency_ms / t.usage.calls, 3) if t.usage.calls else 0,
                first_day=t.first_day,
                last_day=t.last_day,
            )
            for t in totals
        ],
    )
