"""Cost anomalies on daily spend per service: a resistant trend line and median/MAD.

For every (currency, provider, service) the usage spend is a daily series (days without
cost count as 0). Each day ``t`` of the report window is judged against the
``anomaly_window_days`` (W) days before it, split into an older and a recent half:

- **expected**: the line through (centre, median) of each half, extended to ``t``
  (Tukey's resistant line, two medians instead of three). It follows a steady trend, so
  a service that grows 2 % a day is not "anomalous" every day, and its medians ignore a
  spike occupying less than half of either half.
- **scale**: 1.4826 x the median absolute residual of the W days around that line (the
  MAD, consistent with a standard deviation under normal noise), at least 5 % of the
  expected value so a perfectly flat series does not make every cent an outlier.
- a day is **anomalous** when ``(actual - expected) / scale >= anomaly_z`` and it is above
  the expected value by at least ``anomaly_min_increase_pct`` and ``anomaly_min_increase``.

Consecutive anomalous days of one service are one anomaly (an episode) with its expected
and actual totals, its excess and its peak day. Only increases are reported (a drop in
spend costs nothing). Why this method: it is resistant (up to a quarter of the window can
be spikes without moving the baseline), trend-aware, needs no model fitting per series
and runs as two set-based passes over a (series x W) join, so 10 million cost lines cost
one scan. Restriction: weekly seasonality is not modelled; a strong weekday/weekend
pattern widens the MAD (fewer, not more, alarms) rather than being predicted, which a
seasonal decomposition (STL) would do at the price of per-series fitting and at least two
full seasons of history.
"""

# ruff: noqa: S608 - table names come from Scratch, values are bound
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from autonomos.agents._sql import Scratch, records
from autonomos.agents.finops.params import FinOpsParams
from autonomos.agents.finops.prepare import Window

SERIES_KEY = ("currency", "provider", "service")
MAD_TO_SIGMA = 1.4826
MIN_SCALE_SHARE = 0.05


@dataclass(frozen=True)
class Anomaly:
    currency: str
    provider: str
    service: str
    start: date
    end: date
    days: int
    actual: float
    expected: float
    peak_day: date
    peak_actual: float
    peak_expected: float
    peak_z: float

    @property
    def excess(self) -> float:
        return self.actual - self.expected

    @property
    def increase_pct(self) -> float | None:
        return self.excess / self.expected if self.expected > 0 else None


def series_table(s: Scratch, daily: str, w: Window) -> str:
    """Daily usage spend per (currency, provider, service), zero-filled from the series'
    first day in the window to ``as_of``."""
    return s.table(
        "series",
        "WITH u AS (SELECT currency, provider, service, day, sum(cost) AS cost "
        f"FROM {daily} WHERE usage GROUP BY ALL), "
        "span AS (SELECT currency, provider, service, min(day) AS first_day FROM u GROUP BY ALL), "
        "grid AS (SELECT currency, provider, service, CAST(unnest(generate_series("
        "CAST(first_day AS TIMESTAMP), CAST(? AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE) AS day "
        "FROM span) "
        "SELECT g.currency, g.provider, g.service, g.day, coalesce(u.cost, 0.0) AS cost "
        "FROM grid AS g LEFT JOIN u USING (currency, provider, service, day)",
        [w.as_of],
    )


def scored_days(s: Scratch, params: FinOpsParams, w: Window, series: str) -> str:
    """Every judged day of every series with its expected value, scale and z-score."""
    window, half = params.anomaly_window_days, params.anomaly_window_days // 2
    return s.table(
        "scored",
        "WITH pairs AS (SELECT t.currency, t.provider, t.service, t.day, t.cost AS actual, "
        "t.day - h.day AS k, h.cost AS hcost "
        f"FROM {series} AS t JOIN {series} AS h USING (currency, provider, service) "
        "WHERE t.day BETWEEN ? AND ? AND h.day >= t.day - CAST(? AS INTEGER) AND h.day < t.day), "
        "halves AS (SELECT currency, provider, service, day, any_value(actual) AS actual, "
        "count(*) AS n, median(hcost) FILTER (WHERE k <= ?) AS m2, "
        "median(hcost) FILTER (WHERE k > ?) AS m1, avg(k) FILTER (WHERE k <= ?) AS c2, "
        "avg(k) FILTER (WHERE k > ?) AS c1 FROM pairs GROUP BY ALL HAVING count(*) >= ?), "
        "line AS (SELECT *, CASE WHEN m1 IS NULL THEN 0.0 ELSE (m2 - m1) / (c1 - c2) END "
        "AS slope FROM halves), "
        "fit AS (SELECT l.currency, l.provider, l.service, l.day, any_value(l.actual) AS actual, "
        "any_value(greatest(l.m2 + l.slope * l.c2, 0.0)) AS expected, "
        f"{MAD_TO_SIGMA} * median(abs(p.hcost - (l.m2 + l.slope * (l.c2 - p.k)))) AS mad "
        "FROM line AS l JOIN pairs AS p USING (currency, provider, service, day) GROUP BY ALL) "
        "SELECT *, greatest(mad, ? * expected, 0.01) AS scale, "
        "(actual - expected) / greatest(mad, ? * expected, 0.01) AS z FROM fit",
        [w.report_from, w.as_of, window, *[half] * 4, params.anomaly_min_history_days]
        + [MIN_SCALE_SHARE] * 2,
    )


def flagged_days(s: Scratch, params: FinOpsParams, scored: str) -> str:
    return s.table(
        "flagged",
        f"SELECT * FROM {scored} WHERE z >= ? AND actual - expected >= ? "
        "AND actual - expected >= ? * expected",
        [params.anomaly_z, params.anomaly_min_increase, params.anomaly_min_increase_pct],
    )


def episodes(con: duckdb.DuckDBPyConnection, flagged: str) -> list[Anomaly]:
    """Runs of consecutive anomalous days per series, largest excess first."""
    rows = con.execute(
        "SELECT currency, provider, service, min(day), max(day), count(*), sum(actual), "
        "sum(expected), arg_max(day, z), arg_max(actual, z), arg_max(expected, z), max(z) "
        "FROM (SELECT *, day - CAST(row_number() OVER (PARTITION BY currency, provider, "
        f"service ORDER BY day) AS INTEGER) AS grp FROM {flagged}) "
        "GROUP BY currency, provider, service, grp "
        "ORDER BY sum(actual) - sum(expected) DESC, currency, provider, service, min(day)"
    ).fetchall()
    return [Anomaly(*r) for r in rows]


def episode_days(
    con: duckdb.DuckDBPyConnection, scored: str, a: Anomaly, pad: int = 3
) -> list[dict[str, object]]:
    """The episode's days (and ``pad`` days either side) with actual, expected and z."""
    return records(
        con,
        "SELECT day, round(actual, 2) AS actual, round(expected, 2) AS expected, "
        f"round(z, 2) AS z FROM {scored} WHERE currency = ? AND provider = ? AND service = ? "
        "AND day BETWEEN CAST(? AS DATE) - CAST(? AS INTEGER) AND CAST(? AS DATE) + "
        "CAST(? AS INTEGER) ORDER BY day",
        [a.currency, a.provider, a.service, a.start, pad, a.end, pad],
    )
