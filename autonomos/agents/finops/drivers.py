"""Top cost drivers: what changed most between two periods.

**Drivers**: usage spend per (provider, service, sub-account) over the last
``driver_period_days`` against the same number of days before, ranked by the size of the
*sustained* change: the difference of the two periods' median daily spend (days without
cost count as 0), times the period's length. A median moves only when more than half
of a period's days moved, so a three-day spike (reported once, as an anomaly) is not a
driver, while a level shift or a steady trend is. The periods' plain totals are reported
beside it. Only usage lines count (a monthly fee falling into one period or the other is
not a change in behaviour). Skipped when the data does not cover both periods.
"""

# ruff: noqa: S608 - table names come from Scratch, values are bound
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import duckdb

from autonomos.agents.finops.params import FinOpsParams
from autonomos.agents.finops.prepare import Window


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
