"""One pass over ``cloud_cost``: the daily spend table every FinOps analysis starts from.

The view is scanned once, for the days the analyses need, into a temp table at the grain
(day, currency, provider, service, sub-account, region, usage?) with the analysed cost
only (``cost_column``: each extra sum over 10 million lines costs ~15 % of the scan);
breakdowns, anomalies, drivers and the forecast all read that (small) table. Keys are
``coalesce(x, '')`` so a missing value is its own group.

*Usage* lines are the ones that track consumption day by day: FOCUS ChargeCategory
``Usage`` (also the AWS CUR line types ``Usage``, ``DiscountedUsage``,
``SavingsPlanCoveredUsage`` when mapped raw; a null category counts as usage) whose
charge period is at most a day and a half. Purchases, fees, taxes, credits and monthly
lines are real spend (they are in every total) but not a daily signal: a support fee on
the 1st of each month is not an anomaly.

Amounts in different billing currencies are never added: every result is per currency.
"""

# ruff: noqa: S608 - identifiers are constants, values bound or quoted with literal()
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np

from autonomos.agents._sql import Scratch, records
from autonomos.agents.finops.params import FinOpsParams

VIEW = "cloud_cost"
DAY = "CAST(timezone('UTC', charge_period_start) AS DATE)"
USAGE = (
    "((charge_category IS NULL OR lower(charge_category) LIKE '%usage%') AND "
    "(charge_period_end IS NULL OR charge_period_end <= charge_period_start + INTERVAL 36 HOUR))"
)
DIMENSIONS = ("provider", "service", "sub_account", "region")
_COLUMNS = {  # key in results -> view column
    "provider": "provider_name",
    "service": "service_name",
    "sub_account": "sub_account_id",
    "region": "region_id",
}


def cost_expr(params: FinOpsParams) -> str:
    other = "billed_cost" if params.cost_column == "effective_cost" else "effective_cost"
    return f"coalesce({params.cost_column}, {other})"


def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


@dataclass(frozen=True)
class Window:
    """The days an analysis looks at (inclusive bounds)."""

    as_of: date
    first_data_day: date  # first day with cost data in the view
    read_from: date  # first day read into the daily table
    report_from: date  # first day of breakdowns and anomaly scan

    @property
    def target_month(self) -> date:
        """The month the forecast is for: the month of the day after ``as_of``."""
        return month_start(self.as_of + timedelta(days=1))


def plan_window(con: duckdb.DuckDBPyConnection, params: FinOpsParams) -> Window | None:
    """The analysis window, or None when the view holds no dated cost line."""
    row = con.execute(
        f"SELECT {_day('min(charge_period_start)')}, {_day('max(charge_period_start)')} "
        f"FROM main.{VIEW}"
    ).fetchone()
    if row is None or row[0] is None:
        return None
    first, last = row
    as_of = params.as_of or last
    report_from = as_of - timedelta(days=params.lookback_days - 1)
    target = month_start(as_of + timedelta(days=1))
    read_from = min(
        report_from - timedelta(days=params.anomaly_window_days),
        as_of - timedelta(days=2 * params.driver_period_days - 1),
        as_of - timedelta(days=params.forecast_window_days - 1),
        add_months(target, -1),
    )
    return Window(as_of, first, max(read_from, first), report_from)


@dataclass(frozen=True)
class Daily:
    """The daily spend of the window, at the analysis grain.

    ``view``: (day, currency, provider, service, sub_account, region, usage, cost), what
    SQL analyses read; ``ids``: (day, key_id, usage, cost) and ``dims``: (key_id,
    currency, provider, service, sub_account, region), the same as integers plus the few
    names, what :func:`usage_matrix` reads.
    """

    view: str
    ids: str
    dims: str


def daily_table(s: Scratch, params: FinOpsParams, w: Window) -> Daily:
    """The daily spend at the analysis grain, for ``w``'s days.

    The one scan of the view groups by the UTC day (epoch arithmetic), the charge
    period's length as a flag and a 64-bit hash of the six raw key columns (currency,
    provider, service, sub-account, region, charge category): grouping 10 million lines
    by one integer instead of six strings is ~2x cheaper, and that scan is what the run
    costs. The names behind each hash are then read from a few days only (see
    :func:`_key_names`); names are normalised and usage classified on the (small)
    grouped result. Should two key tuples ever share a hash (odds ~ n^2 / 2^65 for n
    tuples) and show it in the names read, the lines are grouped by the columns
    themselves instead.
    """
    bounds = [_utc(w.read_from), _utc(w.as_of + timedelta(days=1))]
    gaps = s.con.execute(
        f"SELECT count(*) - count({params.cost_column}) FROM main.{VIEW} "
        "WHERE charge_period_start >= ? AND charge_period_start < ?",
        bounds,
    ).fetchone()
    # the fallback column is read only when needed: it costs ~10 % of the scan
    cost = cost_expr(params) if gaps and gaps[0] else params.cost_column
    lines = s.table(
        "daily_lines",
        f"SELECT {_EPOCH_DAY} AS day_number, {_KEY} AS k, {_SHORT} AS short, "
        f"sum({cost}) AS cost FROM main.{VIEW} "
        "WHERE charge_period_start >= ? AND charge_period_start < ? GROUP BY ALL",
        bounds,
    )
    names = _key_names(s, lines)
    if names is None:  # a hash shared by two key tuples: exact keys, numbered
        exact = s.table(
            "daily_exact",
            f"SELECT {_EPOCH_DAY} AS day_number, {_RAW}, {_SHORT} AS short, "
            f"sum({cost}) AS cost FROM main.{VIEW} "
            "WHERE charge_period_start >= ? AND charge_period_start < ? GROUP BY ALL",
            bounds,
        )
        names = s.table(
            "daily_exact_names",
            f"SELECT row_number() OVER () AS k, * FROM (SELECT DISTINCT {_RAW} FROM {exact})",
        )
        same = " AND ".join(f"e.{c} IS NOT DISTINCT FROM n.{c}" for c in _RAW.split(", "))
        lines = s.table(
            "daily_exact_lines",
            f"SELECT e.day_number, n.k, e.short, e.cost FROM {exact} AS e "
            f"JOIN {names} AS n ON {same}",
        )
    # Normalised names get an integer id; the daily rows carry the id, the names are
    # joined in by the view SQL analyses read (70k rows of five strings each cost more
    # to write into a temp table than the join costs each reader)
    keys = s.table(
        "daily_keys",
        f"SELECT *, dense_rank() OVER (ORDER BY {', '.join(DIMENSIONS)}, currency) AS key_id "
        f"FROM (SELECT k, {_NAMES}, {_USAGE_CATEGORY} AS usage_category FROM {names})",
    )
    grouped = s.table(
        "daily_ids",
        f"SELECT {_DATE} AS day, key_id, short AND usage_category AS usage, "
        f"CAST(sum(cost) AS DOUBLE) AS cost FROM {lines} JOIN {keys} USING (k) GROUP BY ALL",
    )
    dims = s.table(
        "daily_dims", f"SELECT DISTINCT key_id, currency, {', '.join(DIMENSIONS)} FROM {keys}"
    )
    view = s.view(
        "daily",
        f"SELECT day, currency, {', '.join(DIMENSIONS)}, usage, cost "
        f"FROM {grouped} JOIN {dims} USING (key_id)",
    )
    return Daily(view, grouped, dims)


def usage_matrix(
    con: duckdb.DuckDBPyConnection, daily: Daily, key: Sequence[str], first: date, last: date
) -> tuple[list[tuple[str, ...]], np.ndarray, np.ndarray]:
    """Daily usage spend per ``key`` (names of :data:`DIMENSIONS` and ``currency``) from
    ``first`` to ``last``: the keys with any usage line in those days (sorted), the
    (key x day) spend (0 where none) and whether each cell had a line.

    One query of numbers (the daily ids) and one of the few names: no string is grouped
    or fetched per row.
    """
    names = con.execute(
        f"SELECT key_id, {', '.join(key)} FROM {daily.dims} ORDER BY key_id"
    ).fetchall()
    cols = con.execute(
        "SELECT key_id, CAST(day - CAST(? AS DATE) AS INTEGER) AS t, coalesce(cost, 0.0) "
        f"AS cost FROM {daily.ids} WHERE usage AND day BETWEEN ? AND ?",
        [first, first, last],
    ).fetchnumpy()
    n_days = (last - first).days + 1
    ids = np.asarray(cols["key_id"], dtype=np.int64)
    t = np.asarray(cols["t"], dtype=np.int64)
    cost = np.asarray(cols["cost"], dtype=np.float64)
    groups = sorted({tuple(r[1:]) for r in names})
    index = {g: i for i, g in enumerate(groups)}
    group_of = np.zeros(max((r[0] for r in names), default=0) + 1, dtype=np.int64)
    for r in names:
        group_of[r[0]] = index[tuple(r[1:])]
    cell = group_of[ids] * n_days + t
    size = len(groups) * n_days
    spend = np.bincount(cell, weights=cost, minlength=size).reshape(len(groups), n_days)
    present = (np.bincount(cell, minlength=size) > 0).reshape(len(groups), n_days)
    kept = np.flatnonzero(present.any(axis=1))
    return [groups[i] for i in kept], spend[kept], present[kept]


def _key_names(s: Scratch, lines: str, max_days: int = 4) -> str | None:
    """The raw key columns behind every hash of ``lines``, or None on a collision.

    Every key tuple of the window occurs on some day; the names are read from the view
    one day at a time (a day is a few row groups: the scan skips the rest by their
    min/max): the last day first (a stable estate is named from it alone), then always
    the day holding the most hashes still unnamed. After ``max_days`` days, the rest is
    read in one pass over the days those hashes occur on. Every day read is in the
    window, so every name read belongs to a hash of ``lines``.
    """
    names = s.table(
        "daily_names",
        f"SELECT {_KEY} AS k, {_RAW} FROM main.{VIEW} WHERE false",
    )
    unnamed = f"FROM {lines} WHERE k NOT IN (SELECT k FROM {names})"
    for i in range(max_days):
        row = s.con.execute(
            f"SELECT max(day_number) FROM {lines}"
            if i == 0
            else f"SELECT day_number {unnamed} GROUP BY day_number "
            "ORDER BY count(DISTINCT k) DESC, day_number DESC LIMIT 1"
        ).fetchone()
        if row is None or row[0] is None:
            break
        start = date(1970, 1, 1) + timedelta(days=int(row[0]))
        _add_names(s, names, [_utc(start), _utc(start + timedelta(days=1))])
    else:
        row = s.con.execute(f"SELECT min(day_number), max(day_number) {unnamed}").fetchone()
        if row is not None and row[0] is not None:
            first, last = (date(1970, 1, 1) + timedelta(days=int(d)) for d in row)
            _add_names(s, names, [_utc(first), _utc(last + timedelta(days=1))])
    shared = s.con.execute(f"SELECT count(*) - count(DISTINCT k) FROM {names}").fetchone()
    return None if shared and shared[0] else names


def _add_names(s: Scratch, names: str, bounds: list[str]) -> None:
    s.con.execute(
        f"INSERT INTO {names} SELECT DISTINCT * FROM (SELECT {_KEY} AS k, {_RAW} "
        f"FROM main.{VIEW} WHERE charge_period_start >= ? AND charge_period_start < ?) "
        f"WHERE k NOT IN (SELECT k FROM {names})",
        bounds,
    )


_DAY_US = 86_400_000_000
_SHORT_US = 36 * 3_600_000_000  # a "daily" charge period: at most a day and a half
_EPOCH_DAY = f"epoch_us(charge_period_start) // {_DAY_US}"
_SHORT = (
    f"coalesce(epoch_us(charge_period_end) - epoch_us(charge_period_start) <= {_SHORT_US}, true)"
)
_DATE = "CAST(DATE '1970-01-01' + CAST(day_number AS INTEGER) AS DATE)"
_NAMES = "upper(coalesce(billing_currency, '')) AS currency, " + ", ".join(
    f"coalesce({col}, '') AS {key}" for key, col in _COLUMNS.items()
)
_USAGE_CATEGORY = "(charge_category IS NULL OR lower(charge_category) LIKE '%usage%')"
_RAW = ", ".join(("billing_currency", *_COLUMNS.values(), "charge_category"))
_KEY = f"hash({_RAW})"


def _day(timestamp: str) -> str:
    return f"CAST(timezone('UTC', {timestamp}) AS DATE)"


def _utc(d: date) -> str:
    return f"{d.isoformat()} 00:00:00+00"


def breakdowns(
    con: duckdb.DuckDBPyConnection, daily: Daily, w: Window, top_n: int
) -> dict[str, dict[str, Any]]:
    """Per currency: totals, and spend by provider, service, sub-account, region, month
    and day over the report window (top ``top_n`` per dimension, the rest as ``other``).

    The window's daily rows are summed per key id first (numbers only), so the per
    dimension sets group a few hundred named rows; month and day need the currency only.
    """
    dims = ", ".join(DIMENSIONS)
    sets = ", ".join(f"(currency, {d})" for d in DIMENSIONS)
    window = [w.report_from, w.as_of]
    rows = records(
        con,
        f"WITH k AS (SELECT key_id, sum(cost) AS cost FROM {daily.ids} "
        "WHERE day BETWEEN ? AND ? GROUP BY key_id) "
        f"SELECT currency, {dims}, NULL AS month, NULL AS day, GROUPING({dims}) AS g, "
        f"sum(cost) AS cost FROM k JOIN {daily.dims} USING (key_id) "
        f"GROUP BY GROUPING SETS ((currency), {sets}) ORDER BY currency, g, cost DESC",
        window,
    ) + records(
        con,
        f"SELECT currency, {', '.join(f'NULL AS {d}' for d in DIMENSIONS)}, month, day, "
        "sum(cost) AS cost FROM (SELECT currency, date_trunc('month', day) AS month, day, cost "
        f"FROM {daily.ids} JOIN (SELECT key_id, currency FROM {daily.dims}) USING (key_id) "
        "WHERE day BETWEEN ? AND ?) GROUP BY GROUPING SETS ((currency, month), (currency, day))",
        window,
    )
    out: dict[str, dict[str, Any]] = {}
    names = (*DIMENSIONS, "month", "day")
    for r in rows:
        cur = out.setdefault(r["currency"], {})
        missing = [n for n in names if r[n] is None]
        if len(missing) == len(names):  # the (currency) set: the totals
            cur["cost"] = r["cost"]
            continue
        dim = next(n for n in names if r[n] is not None)
        item = {"key": str(r[dim])[:10] if dim in ("month", "day") else r[dim]}
        cur.setdefault(f"by_{dim}", []).append(item | {"cost": r["cost"]})
    for cur in out.values():
        total = cur.get("cost") or 0.0
        for dim in DIMENSIONS:
            items = cur.get(f"by_{dim}", [])
            kept, rest = items[:top_n], items[top_n:]
            if rest:
                kept.append(
                    {
                        "key": f"other ({len(rest)})",
                        "cost": sum(i["cost"] or 0 for i in rest),
                    }
                )
            for i in kept:
                i["share"] = round((i["cost"] or 0) / total, 4) if total else None
            cur[f"by_{dim}"] = kept
        for dim in ("month", "day"):
            cur[f"by_{dim}"] = sorted(cur.get(f"by_{dim}", []), key=lambda i: i["key"])
    return out


def typical_month(
    con: duckdb.DuckDBPyConnection, daily: str, w: Window, days: int
) -> dict[str, float]:
    """Per currency: the median daily usage spend of the last ``days`` days, times 30."""
    rows = con.execute(
        f"SELECT currency, 30 * median(cost) FROM (SELECT currency, day, sum(cost) AS cost "
        f"FROM {daily} WHERE usage AND day BETWEEN ? AND ? GROUP BY ALL) GROUP BY currency",
        [w.as_of - timedelta(days=days - 1), w.as_of],
    ).fetchall()
    return {c: float(v or 0.0) for c, v in rows}
