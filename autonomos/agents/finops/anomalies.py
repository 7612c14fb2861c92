"""Cost anomalies on daily spend per service: a resistant trend line and median/MAD.

For every (currency, provider, service) the usage spend is a daily series (days without
cost count as 0). Each day ``t`` of the report window is judged against the
``anomaly_window_days`` (W) days before it, split into an older and a recent half:

- **expected**: the line through (centre, median) of each half, extended to ``t``
  (Tukey's resistant line, two medians instead of three). It follows a steady trend, so
  a service that grows 2 % a day is not "anomalous" every day, and its medians ignore a
  spike occupying less than half of either half.
- **scale**: 1.4826 x the median absolute error of the same expectation over the W days
  before ``t`` (each of those days against its own trailing line: a robust one-step-ahead
  error, consistent with a standard deviation under normal noise; slow drift widens it
  too, which keeps autocorrelated real spend from raising alarms), at least 5 % of the
  expected value so a perfectly flat series does not make every cent an outlier.
- a day is **anomalous** when ``(actual - expected) / scale >= anomaly_z`` and it is above
  the expected value by at least ``anomaly_min_increase_pct`` and ``anomaly_min_increase``.

Consecutive anomalous days of one service are one anomaly (an episode) with its expected
and actual totals, its excess and its peak day. Only increases are reported (a drop in
spend costs nothing). Why this method: it is resistant (up to a quarter of the window can
be spikes without moving the baseline), trend-aware, needs no model fitting per series
and is a few window functions over the small daily series table (one row per service and
day), so 10 million cost lines cost one scan. Restriction: weekly seasonality is not
modelled; a strong weekday/weekend pattern widens the scale (fewer, not more, alarms)
rather than being predicted, which a seasonal decomposition (STL) would do at the price
of per-series fitting and at least two full seasons of history.
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
    """Every judged day of every series with its expected value, scale and z-score.

    Window functions over the (small) zero-filled series table: the two halves' medians
    and sizes give each day's line and expected value; the scale is the median absolute
    error of those expectations over the W days before (each day against its own
    trailing fit, so slow drift and noise both widen it, a few spikes do not).
    """
    window, half = params.anomaly_window_days, params.anomaly_window_days // 2
    part = "PARTITION BY currency, provider, service ORDER BY day"
    return s.table(
        "scored",
        "WITH halves AS (SELECT currency, provider, service, day, cost AS actual, "
        "median(cost) OVER older AS m1, median(cost) OVER recent AS m2, "
        "count(*) OVER older AS n1, count(*) OVER recent AS n2 "
        f"FROM {series} WINDOW recent AS ({part} ROWS BETWEEN {half} PRECEDING AND 1 PRECEDING), "
        f"older AS ({part} ROWS BETWEEN {window} PRECEDING AND {half + 1} PRECEDING)), "
        "line AS (SELECT *, (n2 + 1) / 2.0 AS c2, "
        f"CASE WHEN n1 = 0 THEN 0.0 ELSE (m2 - m1) / ({half} + (n1 + 1) / 2.0 - (n2 + 1) / 2.0) "
        "END AS slope FROM halves), "
        "fit AS (SELECT *, greatest(m2 + slope * c2, 0.0) AS expected FROM line), "
        f"scaled AS (SELECT *, {MAD_TO_SIGMA} * median(abs(actual - expected)) OVER ("
        f"{part} ROWS BETWEEN {window} PRECEDING AND 1 PRECEDING) AS mad FROM fit) "
        "SELECT currency, provider, service, day, actual, expected, n1 + n2 AS n, mad, "
        "greatest(coalesce(mad, 0.0), ? * expected, 0.01) AS scale, "
        "(actual - expected) / greatest(coalesce(mad, 0.0), ? * expected, 0.01) AS z "
        "FROM scaled WHERE day BETWEEN ? AND ? AND n1 + n2 >= ?",
        [*[MIN_SCALE_SHARE] * 2, w.report_from, w.as_of, params.anomaly_min_history_days],
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
