"""The FinOps agent: spend breakdowns, anomalies, month-end forecast, drivers, idle
resources over the tenant's ``cloud_cost`` view, as findings a CFO acts on.

:func:`analyze` is a plain function over a DuckDB connection to the tenant's views (a
cursor of the DCL's instance: the DCL, single owner of the file, runs it); everything
is set-based SQL over one scan of the view (see ``prepare``), plus one scan of the idle
window.
"""

# ruff: noqa: S608 - evidence queries quote every value with literal()
from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

import duckdb

from autonomos.agents._sql import key_filter, literal, plain, require_view, scratch
from autonomos.agents.findings import (
    AgentReport,
    Evidence,
    Finding,
    Severity,
    finding_key,
    money,
    pct,
)
from autonomos.agents.finops import NAME
from autonomos.agents.finops import anomalies as an
from autonomos.agents.finops.drivers import Driver, drivers
from autonomos.agents.finops.forecast import Forecast, forecasts
from autonomos.agents.finops.idle import IdleResource, idle_resources
from autonomos.agents.finops.params import FinOpsParams
from autonomos.agents.finops.prepare import (
    DAY,
    USAGE,
    VIEW,
    Window,
    add_months,
    breakdowns,
    cost_expr,
    daily_table,
    plan_window,
    typical_month,
)


def analyze(con: duckdb.DuckDBPyConnection, params: FinOpsParams | None = None) -> AgentReport:
    """Run the FinOps analysis on ``con`` (a connection to the tenant's views)."""
    p = params or FinOpsParams()
    require_view(con, VIEW)
    with scratch(con) as s:
        w = plan_window(con, p)
        if w is None:
            return AgentReport(agent=NAME, summary={"notes": ["cloud_cost holds no cost lines"]})
        daily = daily_table(s, p, w)
        typical = typical_month(con, daily.view, w, p.anomaly_window_days)
        scored = an.score(con, p, w, daily)
        episodes = an.episodes(scored)
        fcs, notes = forecasts(con, p, w, daily.view, scored)
        by_currency, driver_notes = drivers(con, p, w, daily)
        idle, idle_notes = idle_resources(s, p, w)
        findings = [_anomaly(p, scored, a, typical) for a in episodes]
        findings += [_forecast(p, w, f) for f in fcs]
        findings += [
            f
            for ds in by_currency.values()
            for d in ds
            if (f := _driver(p, w, d, typical)) is not None
        ]
        findings += [_idle(p, w, r, typical) for r in idle[: p.top_n]]
        summary: dict[str, Any] = {
            "as_of": w.as_of.isoformat(),
            "cost_column": p.cost_column,
            "window": {
                "from": w.report_from.isoformat(),
                "to": w.as_of.isoformat(),
                "data_from": w.first_data_day.isoformat(),
            },
            "spend": breakdowns(con, daily, w, p.top_n),
            "typical_month": typical,
            "anomalies": [_plain(a) | {"excess": round(a.excess, 2)} for a in episodes[: p.top_n]],
            "forecast": [_plain(f) | {"value": round(f.value, 2)} for f in fcs],
            "drivers": {
                c: [_plain(d) | {"change": round(d.change, 2)} for d in ds[: p.top_n]]
                for c, ds in by_currency.items()
            },
            "idle": {
                "count": len(idle),
                "cost": round(sum(r.cost for r in idle), 2),
                "resources": [
                    {k: v for k, v in _plain(r).items() if k != "evidence"} for r in idle[: p.top_n]
                ],
            },
            "notes": notes + driver_notes + idle_notes,
        }
    findings.sort(key=lambda f: (-f.severity.rank, f.kind, f.key))
    return AgentReport(agent=NAME, as_of=w.as_of, findings=findings, summary=summary)


def _plain(obj: Any) -> dict[str, Any]:
    return {k: plain(v) for k, v in asdict(obj).items()}


def _share(amount: float, typical: dict[str, float], currency: str) -> float | None:
    month = typical.get(currency) or 0.0
    return amount / month if month > 0 else None


def _series_filter(currency: str, provider: str, service: str) -> str:
    return (
        f"upper(coalesce(billing_currency, '')) = {literal(currency)} AND "
        f"{key_filter('provider_name', provider)} AND {key_filter('service_name', service)}"
    )


def _between(start: Any, end_exclusive: Any) -> str:
    return (
        f"charge_period_start >= {literal(f'{start.isoformat()} 00:00:00+00')} AND "
        f"charge_period_start < {literal(f'{end_exclusive.isoformat()} 00:00:00+00')}"
    )


def _name(provider: str, service: str) -> str:
    return " ".join(x for x in (provider, service or "(no service)") if x)


def _anomaly(
    p: FinOpsParams,
    scored: an.Scored,
    a: an.Anomaly,
    typical: dict[str, float],
) -> Finding:
    share = _share(a.excess, typical, a.currency)
    when = a.start.isoformat() if a.days == 1 else f"{a.start} to {a.end}"
    ratio = a.actual / a.expected if a.expected > 0 else None
    title = (
        f"{_name(a.provider, a.service)} spend spiked"
        + (f" {ratio:.1f}x" if ratio else "")
        + f" ({when})"
    )
    query = (
        f"SELECT {DAY} AS day, sum({cost_expr(p)}) AS cost FROM {VIEW} WHERE {USAGE} AND "
        f"{_series_filter(a.currency, a.provider, a.service)} AND "
        f"{_between(a.start - timedelta(days=p.anomaly_window_days), a.end + timedelta(days=1))} "
        "GROUP BY day ORDER BY day"
    )
    return Finding(
        kind="cost_anomaly",
        severity=p.anomaly_severity.severity(share),
        title=title[:300],
        summary=(
            f"Daily usage spend on {_name(a.provider, a.service)} was "
            f"{money(a.actual, a.currency)} over {a.days} day(s) against "
            f"{money(a.expected, a.currency)} expected ({money(a.excess, a.currency)} more, "
            f"{pct(a.increase_pct)}); peak on {a.peak_day}: {money(a.peak_actual, a.currency)} "
            f"vs {money(a.peak_expected, a.currency)} expected (robust z {a.peak_z:.1f})."
        ),
        key=finding_key("cost_anomaly", a.currency, a.provider, a.service, a.start),
        metrics={
            "currency": a.currency,
            "provider": a.provider,
            "service": a.service,
            "start": a.start.isoformat(),
            "end": a.end.isoformat(),
            "days": a.days,
            "actual": round(a.actual, 2),
            "expected": round(a.expected, 2),
            "deviation": round(a.excess, 2),
            "deviation_pct": None if a.increase_pct is None else round(a.increase_pct, 4),
            "peak_day": a.peak_day.isoformat(),
            "peak_actual": round(a.peak_actual, 2),
            "peak_expected": round(a.peak_expected, 2),
            "peak_z": round(a.peak_z, 2),
            "share_of_month": None if share is None else round(share, 4),
        },
        evidence=Evidence(view=VIEW, query=query, rows=an.episode_days(scored, a)),
    )


def _forecast(p: FinOpsParams, w: Window, f: Forecast) -> Finding:
    severity = Severity.INFO
    growth = f.growth
    if growth is not None and growth >= p.forecast_growth.high:
        severity = Severity.HIGH
    elif growth is not None and growth >= p.forecast_growth.medium:
        severity = Severity.MEDIUM
    budget = p.monthly_budget
    over = ""
    if budget is not None and f.value > budget:
        over = f"; over the {money(budget, f.currency)} budget"
        level = Severity.HIGH if f.low > budget else Severity.MEDIUM
        severity = max(severity, level, key=lambda s: s.rank)
    label = f.month.strftime("%B %Y")
    vs = (
        f", {pct(growth)} on last month ({money(f.previous_month, f.currency)})"
        if growth is not None
        else ""
    )
    coverage = f"{p.forecast_interval:.0%}"
    query = (
        f"SELECT {DAY} AS day, sum({cost_expr(p)}) AS cost, "
        f"sum({cost_expr(p)}) FILTER (WHERE {USAGE}) AS usage_cost FROM {VIEW} WHERE "
        f"upper(coalesce(billing_currency, '')) = {literal(f.currency)} AND "
        f"{_between(add_months(f.month, -1), w.as_of + timedelta(days=1))} "
        "GROUP BY day ORDER BY day"
    )
    return Finding(
        kind="cost_forecast",
        severity=severity,
        title=f"{label} spend forecast: {money(f.value, f.currency)}"[:300],
        summary=(
            f"{label} is forecast at {money(f.value, f.currency)} ({coverage} interval "
            f"{money(f.low, f.currency)} to {money(f.high, f.currency)}){vs}{over}: "
            f"{money(f.actual_to_date, f.currency)} so far over {f.days_elapsed} day(s), "
            f"{money(f.pending_recurring, f.currency)} of recurring charges not posted yet, "
            f"{money(f.usage_remaining, f.currency)} of usage over the {f.days_remaining} "
            f"remaining day(s) (trend {money(f.slope_per_day, f.currency)}/day fitted on "
            f"{f.fitted_days} days)."
        ),
        key=finding_key("cost_forecast", f.currency, f.month),
        metrics={
            "currency": f.currency,
            "month": f.month.isoformat(),
            "forecast": round(f.value, 2),
            "low": round(f.low, 2),
            "high": round(f.high, 2),
            "interval": p.forecast_interval,
            "actual_to_date": round(f.actual_to_date, 2),
            "pending_recurring": round(f.pending_recurring, 2),
            "usage_remaining": round(f.usage_remaining, 2),
            "days_elapsed": f.days_elapsed,
            "days_remaining": f.days_remaining,
            "slope_per_day": None if f.slope_per_day is None else round(f.slope_per_day, 4),
            "previous_month": None if f.previous_month is None else round(f.previous_month, 2),
            "growth": None if growth is None else round(growth, 4),
            "budget": budget,
        },
        evidence=Evidence(view=VIEW, query=query),
    )


def _driver(p: FinOpsParams, w: Window, d: Driver, typical: dict[str, float]) -> Finding | None:
    if d.change <= 0:
        return None
    growth = d.change_pct
    if growth is not None and growth < p.driver_min_increase_pct:
        return None
    share = _share(d.change, typical, d.currency)
    if share is None or share < p.driver_severity.medium:
        return None
    period = p.driver_period_days
    split = w.as_of - timedelta(days=period)
    start = w.as_of - timedelta(days=2 * period - 1)
    where = _series_filter(d.currency, d.provider, d.service)
    where += f" AND {key_filter('sub_account_id', d.sub_account)}"
    query = (
        f"SELECT CASE WHEN {DAY} > {literal(split)} THEN 'current' ELSE 'previous' END AS period, "
        f"sum({cost_expr(p)}) AS cost FROM {VIEW} WHERE {USAGE} AND {where} AND "
        f"{_between(start, w.as_of + timedelta(days=1))} GROUP BY period ORDER BY period"
    )
    account = f" in {d.sub_account}" if d.sub_account else ""
    name = f"{_name(d.provider, d.service)}{account}"
    return Finding(
        kind="cost_driver",
        severity=p.driver_severity.severity(share),
        title=f"{name} spend up {money(d.change, d.currency)} ({_growth(growth)})"[:300],
        summary=(
            f"Typical daily usage spend on {name} went from "
            f"{money(d.previous_median, d.currency)} to {money(d.current_median, d.currency)} "
            f"({_growth(growth)}), about {money(d.change, d.currency)} more per {period} days; "
            f"the last {period} days cost {money(d.current, d.currency)} against "
            f"{money(d.previous, d.currency)} in the {period} days before."
        ),
        key=finding_key("cost_driver", d.currency, d.provider, d.service, d.sub_account),
        metrics={
            "currency": d.currency,
            "provider": d.provider,
            "service": d.service,
            "sub_account": d.sub_account,
            "current": round(d.current, 2),
            "previous": round(d.previous, 2),
            "current_daily_median": round(d.current_median, 2),
            "previous_daily_median": round(d.previous_median, 2),
            "change": round(d.change, 2),
            "change_pct": None if growth is None else round(growth, 4),
            "period_days": period,
            "share_of_month": round(share, 4),
        },
        evidence=Evidence(view=VIEW, query=query),
    )


def _idle(
    p: FinOpsParams,
    w: Window,
    r: IdleResource,
    typical: dict[str, float],
) -> Finding:
    monthly = r.cost / p.idle_days * 30
    share = _share(monthly, typical, r.currency)
    where = f"resource_id = {literal(r.resource_id)} AND {USAGE}"
    query = (
        f"SELECT cost_line_id, {DAY} AS day, billed_cost, effective_cost, consumed_quantity, "
        f"consumed_unit FROM {VIEW} WHERE {where} AND "
        f"{_between(w.as_of - timedelta(days=p.idle_days - 1), w.as_of + timedelta(days=1))} "
        "ORDER BY charge_period_start, cost_line_id"
    )
    return Finding(
        kind="idle_resource",
        severity=p.idle_severity.severity(share),
        title=f"Idle {_name(r.provider, r.service)} resource {r.resource_id}"[:300],
        summary=(
            f"{r.resource_id} cost {money(r.cost, r.currency)} over {r.days} day(s) of the "
            f"last {p.idle_days} with zero consumed quantity on every usage line "
            f"(about {money(monthly, r.currency)} per 30 days)."
        ),
        key=finding_key("idle_resource", r.currency, r.resource_id),
        metrics={
            "currency": r.currency,
            "resource_id": r.resource_id,
            "provider": r.provider,
            "service": r.service,
            "sub_account": r.sub_account,
            "region": r.region,
            "cost": round(r.cost, 2),
            "days": r.days,
            "lines": r.lines,
            "monthly_cost": round(monthly, 2),
            "share_of_month": None if share is None else round(share, 4),
        },
        evidence=Evidence(
            view=VIEW,
            query=query,
            row_keys=[str(line["cost_line_id"]) for line in r.evidence],
            rows=r.evidence,
        ),
    )


def _growth(growth: float | None) -> str:
    return "new spend" if growth is None else pct(growth)
