"""Agent test data: the demo streams, the opportunity mapping, generated pipelines."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers.views import (
    ACCOUNT_MAP,
    CUR_TO_FOCUS,
)

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
