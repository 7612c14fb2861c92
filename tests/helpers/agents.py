"""Agent test data: the demo streams, the opportunity mapping, generated pipelines."""

from __future__ import annotations

import csv
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from autonomos.agents.executor import execute_run, local_analyzer, queue_after_materialize
from autonomos.agents.runs import RunStatus
from autonomos.dcl import registry as mappings
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.views import (
    ACCOUNT_MAP,
    CUR_TO_FOCUS,
    connect,
    demo_source,
    sync,
)
from tests.integration.dcl.conftest import tenant_id

OPPORTUNITY_MAP: dict[str, tuple[str, str | None]] = {
    "Id": ("opportunity_id", None),
    "AccountId": ("account_id", None),
    "Name": ("name", None),
    "Amount": ("amount", None),
    "CurrencyIsoCode": ("currency", "upper"),
    "StageName": ("stage", None),
    "Probability": ("probability", None),
    "CloseDate": ("close_date", None),
    "IsClosed": ("is_closed", None),
    "IsWon": ("is_won", None),
    "OwnerId": ("owner_id", None),
    "CreatedDate": ("created_at", None),
    "LastModifiedDate": ("updated_at", None),
    "IsDeleted": ("is_deleted", None),
}


STREAMS = {
    "aws_cur_costs": ("cloud_cost", CUR_TO_FOCUS),
    "salesforce_accounts": ("account", ACCOUNT_MAP),
    "salesforce_opportunities": ("opportunity", OPPORTUNITY_MAP),
}


HEADER = list(OPPORTUNITY_MAP)


def _deal(n: str, amount: float, close: str, updated: str) -> dict[str, Any]:
    return {
        "Id": n,
        "AccountId": f"acc-{n}",
        "Name": f"Deal {n}",
        "Amount": amount,
        "CurrencyIsoCode": "usd",
        "StageName": "Proposal",
        "Probability": 50,
        "CloseDate": close,
        "IsClosed": "false",
        "IsWon": "false",
        "OwnerId": "u1",
        "CreatedDate": "2025-09-01T00:00:00Z",
        "LastModifiedDate": updated,
        "IsDeleted": "false",
    }


def pipeline(folder: Path) -> Path:
    folder.mkdir()
    rows = [_deal(f"ok{i}", 1000, "2026-02-01", "2025-12-31T10:00:00Z") for i in range(20)]
    rows.append(_deal("slipped", 10_000, "2025-11-15", "2025-12-31T10:00:00Z"))
    rows.append(_deal("stale", 1000, "2026-03-01", "2025-10-01T10:00:00Z"))
    with (folder / "opportunities.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def slipped_pipeline() -> list[dict[str, Any]]:
    now = datetime(2025, 12, 31, 12, tzinfo=UTC)
    base = {
        "currency": "USD",
        "stage": "Proposal",
        "probability": 50.0,
        "is_closed": False,
        "is_won": False,
        "created_at": now - timedelta(days=90),
        "updated_at": now,
    }
    rows = [
        base
        | {
            "opportunity_id": f"o{n}",
            "account_id": f"a{n}",
            "amount": 1000.0,
            "close_date": date(2026, 2, 1),
        }
        for n in range(20)
    ]
    rows.append(
        base
        | {
            "opportunity_id": "late",
            "account_id": "a1",
            "amount": 9000.0,
            "close_date": date(2025, 12, 1),
        }
    )
    return rows


async def analysed_demo(
    api: httpx.AsyncClient, tenant: Tenant, db: Database, tmp_path: Path
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The demo company's sources synced into ``tenant``, mapped (``STREAMS``) and
    materialised, and the agents that read them run to success: (tenant id, run ids)."""
    src = demo_source(tmp_path, *(f"{s}.csv" for s in STREAMS))
    cid = await connect(api, tenant, src)
    await sync(api, tenant, cid)
    tid = await tenant_id(api, tenant)
    async with db.tenant_session(tid) as s:
        for stream, (entity, fields) in STREAMS.items():
            for source, (field, transform) in fields.items():
                await mappings.set_mapping(
                    s,
                    connection_id=uuid.UUID(cid),
                    stream=stream,
                    source_field=source,
                    entity=entity,
                    field=field,
                    transform=transform,
                    decided_by="test",
                )
    dcl = api.runtime.dcl  # type: ignore[attr-defined]
    await dcl.materialize(tid, uuid.UUID(cid))
    runs = await queue_after_materialize(db, tid, {"cloud_cost", "opportunity", "account"})
    analyze = local_analyzer(await dcl.service(tid))
    for run_id in runs:
        assert await execute_run(db, tid, run_id, analyze) is RunStatus.SUCCEEDED
    return tid, runs
