"""Top cost drivers: what changed most between two periods.

**Drivers**: usage spend per (provider, service, sub-account) over the last
``driver_period_days`` against the same number of days before, ranked by the size of the
*sustained* change: the difference of the two periods' median daily spend (days without
cost count as 0), times the period's length. A median moves only when more than half
of a period's days moved, so a three-day spike (reported once, as an anomaly) is not a
driver, while a level shift or a steady trend is. The periods' plain totals are reported
beside it. Only usage lines count (a monthly fee falling into one period or the other is
not a change in behaviour). Skipped when the data does not cover both periods. One query
reads the (key x day) spend from the daily table; medians and totals are numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import duckdb
import numpy as np

from autonomos.agents.finops.params import FinOpsParams
from autonomos.agents.finops.prepare import Daily, Window, usage_matrix

KEY = ("currency", "provider", "service", "sub_account")


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
    con: duckdb.DuckDBPyConnection, params: FinOpsParams, w: Window, daily: Daily
) -> tuple[dict[str, list[Driver]], list[str]]:
    """Per currency, every (provider, service, sub-account) by |sustained change|."""
    period = params.driver_period_days
    start = w.as_of - timedelta(days=2 * period - 1)
    if w.first_data_day > start:
        return {}, [
            f"drivers: skipped, the data starts on {w.first_data_day} and comparing two "
            f"{period}-day periods needs it from {start}"
        ]
    keys, spend, _ = usage_matrix(con, daily, KEY, start, w.as_of)
    previous, current = spend[:, :period], spend[:, period:]
    cur, prev = current.sum(axis=1).tolist(), previous.sum(axis=1).tolist()
    cur_med, prev_med = np.median(current, axis=1).tolist(), np.median(previous, axis=1).tolist()
    out: dict[str, list[Driver]] = {}
    for i, (currency, provider, service, sub_account) in enumerate(keys):
        out.setdefault(currency, []).append(
            Driver(
                currency,
                provider,
                service,
                sub_account,
                cur[i],
                prev[i],
                cur_med[i],
                prev_med[i],
                period,
            )
        )
    for ds in out.values():  # keys arrive sorted: a stable sort keeps them so on ties
        ds.sort(key=lambda d: -abs(d.current_median - d.previous_median))
    return out, []
