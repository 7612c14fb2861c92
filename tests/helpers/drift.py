"""The drifting CRM export of the approvals-reach-views tests (inline and Ray)."""

from __future__ import annotations

import csv
import io

import httpx

from tests.conftest import Tenant
from tests.helpers.views import query

REPAIR = "/api/v1/repair"


def drifted_export(original: str) -> str:
    """The accounts export with two columns renamed and new values in both."""
    rows = list(csv.DictReader(io.StringIO(original)))
    out = io.StringIO()
    names = ["PhoneNumber" if n == "Phone" else n for n in rows[0]]
    names = ["Annual_Revenue__c" if n == "AnnualRevenue" else n for n in names]
    writer = csv.DictWriter(out, names, lineterminator="\n")
    writer.writeheader()
    for i, row in enumerate(rows):
        row["PhoneNumber"] = f"+1 555 01{i:03d}"
        row["Annual_Revenue__c"] = str(1_000_000 + i)
        del row["Phone"], row["AnnualRevenue"]
        writer.writerow(row)
    return out.getvalue()


async def new_values(api: httpx.AsyncClient, t: Tenant) -> tuple[int, int]:
    (row,) = (
        await query(
            api,
            t,
            "SELECT count(*) FILTER (WHERE phone LIKE '+1 555 01%'), "
            "count(*) FILTER (WHERE annual_revenue >= 1000000) FROM account",
        )
    )["rows"]
    return int(row[0]), int(row[1])
