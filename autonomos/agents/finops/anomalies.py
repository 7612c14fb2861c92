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
and is a few rolling medians over the small (series x day) matrix, in numpy (one SQL
query fills it from the daily table: 10 million cost lines cost one scan, the analysis
no round trip per series). Restriction: weekly seasonality is not
modelled; a strong weekday/weekend pattern widens the scale (fewer, not more, alarms)
rather than being predicted, which a seasonal decomposition (STL) would do at the price
of per-series fitting and at least two full seasons of history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autonomos.agents.finops.params import FinOpsParams
from autonomos.agents.finops.prepare import Daily, Window, usage_matrix

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


@dataclass(frozen=True)
class Scored:
    """Every series' daily usage spend and its judgement, as (series x day) matrices.

    Day ``j`` is ``first + j`` (the first day read) up to ``as_of``; a series has no value
    (NaN) before its own first day and 0 on days without cost after it. ``judged`` marks
    the days of the report window with enough history, ``flagged`` the anomalous ones.
    """

    keys: list[tuple[str, ...]]  # (currency, provider, service) per row
    first: date
    actual: np.ndarray
    expected: np.ndarray
    z: np.ndarray
    judged: np.ndarray
    flagged: np.ndarray

    def day(self, j: int) -> date:
        return self.first + timedelta(days=int(j))


def score(con: duckdb.DuckDBPyConnection, params: FinOpsParams, w: Window, daily: Daily) -> Scored:
    """Daily usage spend per (currency, provider, service), zero-filled from the series'
    first day to ``as_of``, each day judged against its trailing window (module doc)."""
    keys, spend, present = usage_matrix(con, daily, SERIES_KEY, w.read_from, w.as_of)
    n_days = spend.shape[1]
    started = np.arange(n_days)[None, :] >= np.argmax(present, axis=1)[:, None]
    actual = np.where(started, spend, np.nan)

    window, half = params.anomaly_window_days, params.anomaly_window_days // 2
    frames = _frames(actual, window)  # (series, day, the W days before it)
    older, recent = frames[..., : window - half], frames[..., window - half :]
    (m1, n1), (m2, n2) = _median(older), _median(recent)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(n1 == 0, 0.0, (m2 - m1) / (half + (n1 + 1) / 2 - (n2 + 1) / 2))
    expected = np.maximum(m2 + slope * (n2 + 1) / 2, 0.0)  # NaN (no history) stays NaN
    mad = MAD_TO_SIGMA * _median(_frames(np.abs(actual - expected), window))[0]
    scale = np.maximum.reduce(
        [np.nan_to_num(mad, nan=0.0), MIN_SCALE_SHARE * expected, np.full_like(expected, 0.01)]
    )
    z = (actual - expected) / scale
    lo = (w.report_from - w.read_from).days
    judged = (n1 + n2 >= params.anomaly_min_history_days) & ~np.isnan(actual)
    judged &= ~np.isnan(expected)
    judged[:, : max(lo, 0)] = False
    excess = actual - expected
    with np.errstate(invalid="ignore"):
        flagged = judged & (z >= params.anomaly_z) & (excess >= params.anomaly_min_increase)
        flagged &= excess >= params.anomaly_min_increase_pct * expected
    return Scored(keys, w.read_from, actual, expected, z, judged, flagged)


def _median(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The median of each frame's values (NaN: none) and their count, as SQL's median
    over a window frame (the mean of the two middle values of an even count)."""
    ordered = np.sort(frames, axis=-1)  # NaN sorts last
    n = np.sum(~np.isnan(ordered), axis=-1)
    lo = np.take_along_axis(ordered, np.maximum(n - 1, 0)[..., None] // 2, axis=-1)[..., 0]
    hi = np.take_along_axis(ordered, (n // 2)[..., None], axis=-1)[..., 0]
    return np.where(n > 0, (lo + hi) / 2, np.nan), n


def _frames(x: np.ndarray, window: int) -> np.ndarray:
    """For every day, the ``window`` values before it (NaN before the first day)."""
    padded = np.concatenate([np.full((x.shape[0], window), np.nan), x], axis=1)
    return sliding_window_view(padded, window, axis=1)[:, : x.shape[1], :]


def episodes(sc: Scored) -> list[Anomaly]:
    """Runs of consecutive anomalous days per series, largest excess first."""
    out = []
    for s, j in zip(*(a.tolist() for a in np.nonzero(sc.flagged)), strict=True):
        if j > 0 and sc.flagged[s, j - 1]:
            continue  # not the start of a run
        end = j
        while end + 1 < sc.flagged.shape[1] and sc.flagged[s, end + 1]:
            end += 1
        run = slice(j, end + 1)
        peak = j + int(np.argmax(sc.z[s, run]))
        out.append(
            Anomaly(
                currency=sc.keys[s][0],
                provider=sc.keys[s][1],
                service=sc.keys[s][2],
                start=sc.day(j),
                end=sc.day(end),
                days=end - j + 1,
                actual=float(np.sum(sc.actual[s, run])),
                expected=float(np.sum(sc.expected[s, run])),
                peak_day=sc.day(peak),
                peak_actual=float(sc.actual[s, peak]),
                peak_expected=float(sc.expected[s, peak]),
                peak_z=float(sc.z[s, peak]),
            )
        )
    out.sort(key=lambda a: (-a.excess, a.currency, a.provider, a.service, a.start))
    return out


def episode_days(sc: Scored, a: Anomaly, pad: int = 3) -> list[dict[str, object]]:
    """The episode's judged days (and ``pad`` days either side) with actual, expected, z."""
    s = sc.keys.index((a.currency, a.provider, a.service))
    lo = max((a.start - sc.first).days - pad, 0)
    hi = min((a.end - sc.first).days + pad, sc.actual.shape[1] - 1)
    return [
        {
            "day": sc.day(j).isoformat(),
            "actual": round(float(sc.actual[s, j]), 2),
            "expected": round(float(sc.expected[s, j]), 2),
            "z": round(float(sc.z[s, j]), 2),
        }
        for j in range(lo, hi + 1)
        if sc.judged[s, j]
    ]


def fit_inputs(sc: Scored, fit_from: date, as_of: date) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per currency, the daily usage spend of ``fit_from``..``as_of`` (an anomalous day at
    its expected value) as (x = day - as_of, y), for days some series of it covers."""
    lo, hi = (fit_from - sc.first).days, (as_of - sc.first).days
    lo = max(lo, 0)
    values = np.where(sc.flagged, sc.expected, sc.actual)[:, lo : hi + 1]
    x = np.arange(lo, hi + 1, dtype=np.float64) - (as_of - sc.first).days
    out = {}
    for currency in sorted({k[0] for k in sc.keys}):
        rows = values[[i for i, k in enumerate(sc.keys) if k[0] == currency]]
        covered = ~np.all(np.isnan(rows), axis=0)
        if covered.any():
            out[currency] = (x[covered], np.nansum(rows[:, covered], axis=0))
    return out
