"""Month-end forecast with a prediction interval.

The forecast is for the month of the day after ``as_of`` (mid-month: this month; on the
last day of a month: the next one). It adds three parts:

- **actual to date**: every cost line of the month so far (fees, taxes, credits too);
- **recurring charges not posted yet**: when the month has no non-usage line yet, last
  month's non-usage total (support fees, commitment fees, tax), which providers post on
  the 1st;
- **usage still to come**: an ordinary least-squares line through the last
  ``forecast_window_days`` of daily usage spend (anomalous days enter at their expected
  value, so a spike last week does not bend next week's forecast), summed over the
  remaining days. Its interval is the prediction interval of that sum (Student t with
  n - 2 degrees of freedom; residual variance per day plus the line's own uncertainty),
  at ``forecast_interval`` coverage.

The fit reads the anomaly scan's (series x day) matrix (see ``anomalies.Scored``); the
month's totals come from the daily table in one query.
"""

# ruff: noqa: S608 - table names come from Scratch, values are bound
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

import duckdb
import numpy as np
from scipy import stats

from autonomos.agents.finops.anomalies import Scored, fit_inputs
from autonomos.agents.finops.params import FinOpsParams
from autonomos.agents.finops.prepare import Window, add_months


@dataclass(frozen=True)
class Forecast:
    currency: str
    month: date
    actual_to_date: float
    pending_recurring: float
    usage_remaining: float
    low: float
    high: float
    days_elapsed: int
    days_remaining: int
    fitted_days: int
    slope_per_day: float | None
    previous_month: float | None  # total of the last complete month, when fully covered

    @property
    def value(self) -> float:
        return self.actual_to_date + self.pending_recurring + self.usage_remaining

    @property
    def growth(self) -> float | None:
        if not self.previous_month or self.previous_month <= 0:
            return None
        return self.value / self.previous_month - 1


def forecasts(
    con: duckdb.DuckDBPyConnection,
    params: FinOpsParams,
    w: Window,
    daily: str,
    scored: Scored,
) -> tuple[list[Forecast], list[str]]:
    """One forecast per currency that has usage in the fit window; notes on the rest."""
    month = w.target_month
    month_end = add_months(month, 1) - timedelta(days=1)
    remaining = (month_end - w.as_of).days
    previous = add_months(month, -1)
    fit_from = w.as_of - timedelta(days=params.forecast_window_days - 1)
    fits = {c: _regression(x, y) for c, (x, y) in fit_inputs(scored, fit_from, w.as_of).items()}
    totals = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT currency, sum(cost) FILTER (WHERE day >= ?), "
            "count(*) FILTER (WHERE day >= ? AND NOT usage), "
            "sum(cost) FILTER (WHERE day >= ? AND day < ?), "
            "sum(cost) FILTER (WHERE day >= ? AND day < ? AND NOT usage) "
            f"FROM {daily} WHERE day <= ? GROUP BY currency",
            [month, month, previous, month, previous, month, w.as_of],
        ).fetchall()
    }
    complete_previous = w.first_data_day <= previous
    out, notes = [], []
    level = params.forecast_interval
    for currency in sorted(set(fits) | set(totals)):
        mtd, other_lines, prev_total, prev_other = totals.get(currency, (0.0, 0, None, None))
        fit = fits.get(currency)
        if fit is None or fit.n < 3 or not fit.sxx:
            notes.append(
                f"{currency or 'no currency'}: no forecast, fewer than 3 days of usage in "
                f"the last {params.forecast_window_days} days"
            )
            continue
        n, slope, intercept, sxx, syy, sxy, xbar = fit
        k = remaining
        usage = max(k * intercept + slope * k * (k + 1) / 2, 0.0)
        half = 0.0
        if k > 0 and n > 2:
            sigma2 = max(syy - sxy * sxy / sxx, 0.0) / (n - 2)
            spread = k * (k + 1) / 2 - k * xbar
            var = sigma2 * (k + k * k / n + spread * spread / sxx)
            half = float(stats.t.ppf((1 + level) / 2, n - 2)) * math.sqrt(var)
        pending = float(prev_other or 0.0) if complete_previous and not other_lines else 0.0
        base = float(mtd or 0.0) + pending
        out.append(
            Forecast(
                currency=currency,
                month=month,
                actual_to_date=float(mtd or 0.0),
                pending_recurring=pending,
                usage_remaining=usage,
                low=max(base + usage - half, float(mtd or 0.0)),
                high=base + usage + half,
                days_elapsed=(w.as_of - month).days + 1 if w.as_of >= month else 0,
                days_remaining=k,
                fitted_days=int(n),
                slope_per_day=float(slope),
                previous_month=float(prev_total) if complete_previous and prev_total else None,
            )
        )
    return out, notes


class _Fit(NamedTuple):
    """An ordinary least-squares line's sums, as SQL's ``regr_*`` aggregates name them."""

    n: int
    slope: float
    intercept: float
    sxx: float
    syy: float
    sxy: float
    xbar: float


def _regression(x: np.ndarray, y: np.ndarray) -> _Fit:
    n = len(x)
    xbar, ybar = float(np.mean(x)), float(np.mean(y))
    dx, dy = x - xbar, y - ybar
    sxx, syy, sxy = float(dx @ dx), float(dy @ dy), float(dx @ dy)
    slope = sxy / sxx if sxx else 0.0
    return _Fit(n, slope, ybar - slope * xbar, sxx, syy, sxy, xbar)
