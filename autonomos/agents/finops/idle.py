"""Idle resources: billed, and measured no usage.

Over the last ``idle_days``, a resource (``resource_id``) billed on at least
``idle_min_days`` days for at least ``idle_min_cost`` whose usage lines all measured zero
consumption (FOCUS ``ConsumedQuantity`` = 0): provisioned, paid for, and not used (an
unattached IP, a stopped instance's storage, an endpoint nobody calls). Lines without a
measured quantity do not count as zero; when no usage line in the window has one
(``consumed_quantity`` is not mapped), idle resources cannot be told apart and the check
says so instead of flagging everything.

The zero-consumption lines are aggregated per resource (they are few), and a resource
that measured any consumption in the window is dropped; evidence is the resource's
zero-consumption lines, gathered by the same query.
"""

# ruff: noqa: S608 - table names come from Scratch, values are bound
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

from autonomos.agents._sql import Scratch, plain
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
    evidence: list[dict[str, Any]]  # its first zero-consumption lines


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
    # Zero-consumption lines are few: they go to a temp table in one filtered pass, and
    # their resources are passed back as a list, so the check for any consumption is a
    # filter of the window's second (and last) pass (a semi-join against the lines hashes
    # every line of the window: 3-5x slower at 10 M rows); the grouping, days and
    # evidence come from the temp table.
    zero = s.table(
        "idle_zero",
        f"SELECT upper(coalesce(billing_currency, '')) AS currency, resource_id, "
        "provider_name, service_name, sub_account_id, region_id, "
        f"CAST({cost_expr(params)} AS DOUBLE) AS cost, {DAY} AS day, charge_period_start, "
        "cost_line_id, billed_cost, effective_cost, consumed_quantity, consumed_unit "
        f"FROM main.{VIEW} WHERE {window} AND consumed_quantity = 0 "
        "AND resource_id IS NOT NULL AND resource_id <> ''",
        bounds,
    )
    row = s.con.execute(f"SELECT list(DISTINCT resource_id) FROM {zero}").fetchone()
    candidates = list(row[0] or []) if row else []
    if not candidates:
        return [], []
    busy = s.con.execute(
        f"SELECT list(DISTINCT resource_id) FROM main.{VIEW} WHERE {window} "
        "AND consumed_quantity <> 0 AND list_contains(?::VARCHAR[], resource_id)",
        [*bounds, candidates],
    ).fetchone()
    rows = s.con.execute(
        "SELECT currency, resource_id, coalesce(any_value(provider_name), ''), "
        "coalesce(any_value(service_name), ''), coalesce(any_value(sub_account_id), ''), "
        "coalesce(any_value(region_id), ''), sum(cost) AS cost, count(DISTINCT day) AS days, "
        "count(*), min(day), max(day), list({'cost_line_id': cost_line_id, 'day': day, "
        "'service_name': service_name, 'billed_cost': billed_cost, "
        "'effective_cost': effective_cost, 'consumed_quantity': consumed_quantity, "
        "'consumed_unit': consumed_unit} ORDER BY charge_period_start, cost_line_id)"
        f"[1:{MAX_EVIDENCE_ROWS}] FROM {zero} "
        "WHERE NOT list_contains(?::VARCHAR[], resource_id) GROUP BY ALL "
        "HAVING days >= ? AND cost >= ? ORDER BY cost DESC, resource_id",
        [list(busy[0] or []) if busy else [], params.idle_min_days, params.idle_min_cost],
    ).fetchall()
    return [_idle(r) for r in rows], []


def _idle(row: tuple[Any, ...]) -> IdleResource:
    *head, lines = row
    names = [f.name for f in fields(IdleResource)][: len(head)]
    evidence = [{k: plain(v) for k, v in line.items()} for line in lines]
    return IdleResource(**dict(zip(names, head, strict=True)), evidence=evidence)


def _bounds(first: date, last: date) -> list[str]:
    return [
        f"{first.isoformat()} 00:00:00+00",
        f"{(last + timedelta(days=1)).isoformat()} 00:00:00+00",
    ]
