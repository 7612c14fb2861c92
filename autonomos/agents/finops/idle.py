"""Idle resources: billed, and measured no usage.

Over the last ``idle_days``, a resource (``resource_id``) billed on at least
``idle_min_days`` days for at least ``idle_min_cost`` whose usage lines all measured zero
consumption (FOCUS ``ConsumedQuantity`` = 0): provisioned, paid for, and not used (an
unattached IP, a stopped instance's storage, an endpoint nobody calls). Lines without a
measured quantity do not count as zero; when no usage line in the window has one
(``consumed_quantity`` is not mapped), idle resources cannot be told apart and the check
says so instead of flagging everything.

The zero-consumption lines are aggregated per resource (they are few), and a resource
that measured any consumption in the window is dropped (a semi-join probe); evidence is
the resource's zero-consumption lines.
"""

# ruff: noqa: S608 - table names come from Scratch, values are bound
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb

from autonomos.agents._sql import Scratch, records
from autonomos.agents.findings import MAX_EVIDENCE_ROWS
from autonomos.agents.finops.params import FinOpsParams
from autonomos.agents.finops.prepare import DAY, USAGE, VIEW, Window, cost_expr


@dataclass(frozen=True)
class IdleResource:
    currency: str
    resource_id: str
    provider: str
    service: str
    sub_account: str
    region: str
    cost: float
    days: int
    lines: int
    first_day: date
    last_day: date


def idle_resources(
    s: Scratch, params: FinOpsParams, w: Window
) -> tuple[list[IdleResource], list[str]]:
    """Idle resources of the window, most expensive first (and notes)."""
    bounds = _bounds(w.as_of - timedelta(days=params.idle_days - 1), w.as_of)
    window = f"{USAGE} AND charge_period_start >= ? AND charge_period_start < ?"
    measured = s.con.execute(
        f"SELECT 1 FROM main.{VIEW} WHERE {window} AND consumed_quantity IS NOT NULL LIMIT 1",
        bounds,
    ).fetchone()
    if measured is None:
        return [], [
            "idle resources: skipped, no usage line of the last "
            f"{params.idle_days} days has a consumed_quantity (is it mapped?)"
        ]
    # the zero-consumption lines are few: aggregate those, then drop every resource that
    # measured some consumption in the window (a semi-join probe of the window's lines)
    rows = s.con.execute(
        f"WITH zero AS (SELECT * FROM main.{VIEW} WHERE {window} AND consumed_quantity = 0 "
        "AND resource_id IS NOT NULL AND resource_id <> ''), "
        f"busy AS (SELECT DISTINCT resource_id FROM main.{VIEW} WHERE {window} "
        "AND consumed_quantity <> 0 AND resource_id IN (SELECT resource_id FROM zero)) "
        "SELECT upper(coalesce(billing_currency, '')) AS currency, resource_id, "
        "coalesce(any_value(provider_name), ''), coalesce(any_value(service_name), ''), "
        "coalesce(any_value(sub_account_id), ''), coalesce(any_value(region_id), ''), "
        f"CAST(sum({cost_expr(params)}) AS DOUBLE) AS cost, count(DISTINCT {DAY}) AS days, "
        f"count(*), min({DAY}), max({DAY}) FROM zero "
        "WHERE resource_id NOT IN (SELECT resource_id FROM busy) GROUP BY ALL "
        "HAVING days >= ? AND cost >= ? ORDER BY cost DESC, resource_id",
        [*bounds, *bounds, params.idle_min_days, params.idle_min_cost],
    ).fetchall()
    return [IdleResource(*r) for r in rows], []


def idle_lines(
    con: duckdb.DuckDBPyConnection, params: FinOpsParams, w: Window, found: list[IdleResource]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The first ``MAX_EVIDENCE_ROWS`` zero-consumption lines of each resource in the
    window, by (currency, resource id)."""
    if not found:
        return {}
    rows = records(
        con,
        "SELECT upper(coalesce(billing_currency, '')) AS _currency, resource_id AS _resource, "
        f"cost_line_id, {DAY} AS day, service_name, billed_cost, effective_cost, "
        f"consumed_quantity, consumed_unit FROM main.{VIEW} WHERE resource_id IN "
        f"(SELECT unnest(?::VARCHAR[])) AND consumed_quantity = 0 AND {USAGE} "
        "AND charge_period_start >= ? "
        "AND charge_period_start < ? QUALIFY row_number() OVER (PARTITION BY _currency, "
        "resource_id ORDER BY charge_period_start, cost_line_id) <= ? "
        "ORDER BY _currency, resource_id, charge_period_start, cost_line_id",
        [
            sorted({r.resource_id for r in found}),
            *_bounds(w.as_of - timedelta(days=params.idle_days - 1), w.as_of),
            MAX_EVIDENCE_ROWS,
        ],
    )
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        key = (row.pop("_currency"), row.pop("_resource"))
        out.setdefault(key, []).append(row)
    return out


def _bounds(first: date, last: date) -> list[str]:
    return [
        f"{first.isoformat()} 00:00:00+00",
        f"{(last + timedelta(days=1)).isoformat()} 00:00:00+00",
    ]
