"""Top cost drivers (what changed most between two periods) and idle resources.

**Drivers**: usage spend per (provider, service, sub-account) over the last
``driver_period_days`` against the same number of days before, ranked by the size of the
*sustained* change: the difference of the two periods' median daily spend (days without
cost count as 0), times the period's length. A median moves only when more than half
of a period's days moved, so a three-day spike (reported once, as an anomaly) is not a
driver, while a level shift or a steady trend is. The periods' plain totals are reported
beside it. Only usage lines count (a monthly fee falling into one period or the other is
not a change in behaviour). Skipped when the data does not cover both periods.

**Idle resources**: over the last ``idle_days``, a resource (``resource_id``) billed on
at least ``idle_min_days`` days for at least ``idle_min_cost`` whose usage lines all
measured zero consumption (FOCUS ``ConsumedQuantity`` = 0): provisioned, paid for, and
not used (an unattached IP, a stopped instance's storage, an endpoint nobody calls).
Lines without a measured quantity do not count as zero; when no usage line in the window
has one (``consumed_quantity`` is not mapped), idle resources cannot be told apart and
the check says so instead of flagging everything.
"""

# ruff: noqa: S608 - table names come from Scratch, values are bound
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

import duckdb

from autonomos.agents._sql import records
from autonomos.agents.finops.params import FinOpsParams
from autonomos.agents.finops.prepare import DAY, USAGE, VIEW, Window, cost_expr


@dataclass(frozen=True)
class Driver:
    currency: str
    provider: str
    service: str
    sub_account: str
    current: float  # total of the last period
    previous: float  # total of the period before
    current_median: float  # median daily spend of each period
    previous_median: float
    period_days: int

    @property
    def change(self) -> float:
        """The sustained change over one period (median daily spend x days)."""
        return (self.current_median - self.previous_median) * self.period_days

    @property
    def change_pct(self) -> float | None:
        if self.previous_median > 0:
            return self.current_median / self.previous_median - 1
        return None


def drivers(
    con: duckdb.DuckDBPyConnection, params: FinOpsParams, w: Window, daily: str
) -> tuple[dict[str, list[Driver]], list[str]]:
    """Per currency, every (provider, service, sub-account) by |sustained change|."""
    period = params.driver_period_days
    split = w.as_of - timedelta(days=period)  # last day of the previous period
    start = w.as_of - timedelta(days=2 * period - 1)
    if w.first_data_day > start:
        return {}, [
            f"drivers: skipped, the data starts on {w.first_data_day} and comparing two "
            f"{period}-day periods needs it from {start}"
        ]
    rows = con.execute(
        "WITH spend AS (SELECT currency, provider, service, sub_account, day, "
        f"sum(cost) AS cost FROM {daily} WHERE usage AND day BETWEEN ? AND ? GROUP BY ALL), "
        "keys AS (SELECT DISTINCT currency, provider, service, sub_account FROM spend), "
        "days AS (SELECT CAST(unnest(generate_series(CAST(? AS TIMESTAMP), "
        "CAST(? AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE) AS day), "
        "grid AS (SELECT k.currency, k.provider, k.service, k.sub_account, d.day, "
        "coalesce(s.cost, 0.0) AS cost, d.day > ? AS cur FROM keys AS k CROSS JOIN days AS d "
        "LEFT JOIN spend AS s USING (currency, provider, service, sub_account, day)) "
        "SELECT currency, provider, service, sub_account, sum(cost) FILTER (WHERE cur) AS c, "
        "sum(cost) FILTER (WHERE NOT cur) AS p, median(cost) FILTER (WHERE cur) AS mc, "
        "median(cost) FILTER (WHERE NOT cur) AS mp FROM grid GROUP BY ALL "
        "ORDER BY currency, abs(mc - mp) DESC, provider, service, sub_account",
        [start, w.as_of, start, w.as_of, split],
    ).fetchall()
    out: dict[str, list[Driver]] = {}
    for currency, provider, service, sub_account, cur, prev, cur_med, prev_med in rows:
        out.setdefault(currency, []).append(
            Driver(currency, provider, service, sub_account, cur, prev, cur_med, prev_med, period)
        )
    return out, []


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
    line_ids: list[str]


def idle_resources(
    con: duckdb.DuckDBPyConnection, params: FinOpsParams, w: Window
) -> tuple[list[IdleResource], list[str]]:
    since = w.as_of - timedelta(days=params.idle_days - 1)
    bounds = [
        f"{since.isoformat()} 00:00:00+00",
        f"{(w.as_of + timedelta(days=1)).isoformat()} 00:00:00+00",
    ]
    measured = con.execute(
        f"SELECT count(consumed_quantity) FROM main.{VIEW} WHERE {USAGE} "
        "AND charge_period_start >= ? AND charge_period_start < ?",
        bounds,
    ).fetchone()
    if not measured or not measured[0]:
        return [], [
            "idle resources: skipped, no usage line of the last "
            f"{params.idle_days} days has a consumed_quantity (is it mapped?)"
        ]
    rows = con.execute(
        "SELECT currency, resource_id, provider, service, sub_account, region, cost, days, "
        "lines, first_day, last_day, line_ids FROM ("
        "SELECT upper(coalesce(billing_currency, '')) AS currency, resource_id, "
        "coalesce(any_value(provider_name), '') AS provider, "
        "coalesce(any_value(service_name), '') AS service, "
        "coalesce(any_value(sub_account_id), '') AS sub_account, "
        "coalesce(any_value(region_id), '') AS region, "
        f"CAST(sum({cost_expr(params)}) AS DOUBLE) AS cost, count(DISTINCT {DAY}) AS days, "
        f"count(*) AS lines, min({DAY}) AS first_day, max({DAY}) AS last_day, "
        "count(consumed_quantity) AS measured, max(abs(consumed_quantity)) AS max_qty, "
        "list(cost_line_id ORDER BY charge_period_start, cost_line_id)[1:50] AS line_ids "
        f"FROM main.{VIEW} WHERE {USAGE} AND charge_period_start >= ? "
        "AND charge_period_start < ? AND coalesce(resource_id, '') <> '' GROUP BY ALL) "
        "WHERE measured > 0 AND max_qty = 0 AND days >= ? AND cost >= ? "
        "ORDER BY cost DESC, resource_id",
        [*bounds, params.idle_min_days, params.idle_min_cost],
    ).fetchall()
    return [_idle_resource(r) for r in rows], []


def _idle_resource(row: tuple[Any, ...]) -> IdleResource:
    *head, line_ids = row
    names = [f.name for f in fields(IdleResource)][: len(head)]
    return IdleResource(**dict(zip(names, head, strict=True)), line_ids=list(line_ids or []))


def idle_lines(
    con: duckdb.DuckDBPyConnection, params: FinOpsParams, r: IdleResource, limit: int
) -> list[dict[str, Any]]:
    """The first ``limit`` cost lines of an idle resource in the window, for evidence."""
    return records(
        con,
        f"SELECT cost_line_id, {DAY} AS day, service_name, billed_cost, effective_cost, "
        f"consumed_quantity, consumed_unit FROM main.{VIEW} WHERE resource_id = ? AND {USAGE} "
        "AND charge_period_start >= ? AND charge_period_start < ? "
        "ORDER BY charge_period_start, cost_line_id LIMIT ?",
        [
            r.resource_id,
            f"{r.first_day.isoformat()} 00:00:00+00",
            f"{(r.last_day + timedelta(days=1)).isoformat()} 00:00:00+00",
            limit,
        ],
    )
