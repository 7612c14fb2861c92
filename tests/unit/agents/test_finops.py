"""The FinOps agent on cost data each test generates and materialises through the DCL."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from autonomos.agents._sql import scratch
from autonomos.agents.builtin import run_analysis, validate_params
from autonomos.agents.errors import AgentInputError, AnalysisError
from autonomos.agents.findings import AgentReport, Finding, Severity
from autonomos.agents.finops import FinOpsParams, analyze, prepare
from autonomos.dcl import sandbox
from tests.unit.agents.conftest import Views

START = date(2025, 9, 1)
Daily = Callable[[int, date], float]  # (day index, day) -> cost


def lines(
    services: dict[str, Daily],
    days: int,
    *,
    start: date = START,
    account: str = "111111111111",
    currency: str = "USD",
    quantity: float | None = 1.0,
) -> list[dict[str, Any]]:
    """One usage line per service and day (and its resource), FOCUS-named."""
    out = []
    for i in range(days):
        d = start + timedelta(days=i)
        at = datetime(d.year, d.month, d.day, tzinfo=UTC)
        for name, cost in services.items():
            value = round(cost(i, d), 4)
            out.append(
                {
                    "cost_line_id": f"{currency}-{account}-{name}-{d}",
                    "provider_name": "AWS",
                    "service_name": name,
                    "sub_account_id": account,
                    "region_id": "us-east-1",
                    "resource_id": f"res-{name.lower()}",
                    "charge_category": "Usage",
                    "charge_period_start": at,
                    "charge_period_end": at + timedelta(days=1),
                    "billed_cost": value,
                    "effective_cost": value,
                    "billing_currency": currency,
                    "consumed_quantity": quantity,
                    "consumed_unit": "Hrs",
                }
            )
    return out


def noisy(level: float, spread: float, seed: int) -> Daily:
    rng = random.Random(seed)
    return lambda i, d: level * rng.uniform(1 - spread, 1 + spread)


def of_kind(report: AgentReport, kind: str) -> list[Finding]:
    return [f for f in report.findings if f.kind == kind]


def test_a_cost_spike_is_found_with_its_numbers(views: Views) -> None:
    spike = (date(2025, 11, 3), date(2025, 11, 5))
    base = noisy(1000, 0.05, 1)

    def compute(i: int, d: date) -> float:
        value = base(i, d)
        return value * 4 if spike[0] <= d <= spike[1] else value

    rows = lines({"Compute": compute, "Storage": noisy(300, 0.05, 2)}, 76)
    views.load("cloud_cost", rows)
    report = analyze(views.cursor())

    (anomaly,) = of_kind(report, "cost_anomaly")
    m = anomaly.metrics
    assert (m["service"], m["start"], m["end"], m["days"]) == (
        "Compute",
        "2025-11-03",
        "2025-11-05",
        3,
    )
    actual = sum(
        r["billed_cost"]
        for r in rows
        if r["service_name"] == "Compute"
        and spike[0] <= r["charge_period_start"].date() <= spike[1]
    )
    assert m["actual"] == pytest.approx(actual, abs=0.01)
    assert m["expected"] == pytest.approx(3000, rel=0.05)  # 3 days of ~1,000
    assert m["deviation"] == pytest.approx(m["actual"] - m["expected"], abs=0.02)
    assert m["deviation_pct"] == pytest.approx(3.0, rel=0.1)  # 4x is +300 %
    assert m["peak_z"] > 10
    assert anomaly.severity is Severity.HIGH  # ~9,000 extra on a ~39,000 month
    assert "Compute" in anomaly.title and "2025-11-03" in anomaly.title

    # the evidence query runs in the tenant's SQL sandbox and shows the same numbers
    result = sandbox.run(views.cursor(), anomaly.evidence.query, max_rows=1000, timeout_s=5)
    days = {str(r[0]): float(r[1]) for r in result.rows}
    episode = sum(v for d, v in days.items() if "2025-11-03" <= d <= "2025-11-05")
    assert episode == pytest.approx(m["actual"], abs=0.01)
    assert [r["day"] for r in anomaly.evidence.rows][3:6] == [
        "2025-11-03",
        "2025-11-04",
        "2025-11-05",
    ]

    # a one-off spike is not a "driver", and it does not bend the forecast's trend
    assert not [f for f in of_kind(report, "cost_driver") if f.metrics["service"] == "Compute"]
    (forecast,) = of_kind(report, "cost_forecast")
    assert abs(forecast.metrics["slope_per_day"]) < 15  # flat series: ~0, not the spike's slope


def test_a_steady_trend_is_not_an_anomaly_and_is_forecast(views: Views) -> None:
    trend = noisy(1, 0.01, 3)
    rows = lines(
        {
            "Growing": lambda i, d: (100 + 3 * i) * trend(i, d),
            "Flat": noisy(400, 0.03, 4),
        },
        91,  # September 1 to November 30
    )
    as_of = date(2025, 11, 15)
    views.load("cloud_cost", [r for r in rows if r["charge_period_start"].date() <= as_of])
    report = analyze(views.cursor())

    assert report.as_of == as_of  # the last day with data
    assert of_kind(report, "cost_anomaly") == []
    (forecast,) = of_kind(report, "cost_forecast")
    m = forecast.metrics
    truth = sum(r["billed_cost"] for r in rows if r["charge_period_start"].month == 11)
    so_far = sum(
        r["billed_cost"]
        for r in rows
        if r["charge_period_start"].month == 11 and r["charge_period_start"].date() <= as_of
    )
    assert m["month"] == "2025-11-01"
    assert m["actual_to_date"] == pytest.approx(so_far, abs=0.01)
    assert (m["days_elapsed"], m["days_remaining"]) == (15, 15)
    assert m["forecast"] == pytest.approx(truth, rel=0.01)
    assert m["high"] - m["low"] < 0.02 * m["forecast"]  # a narrow interval, on this noise
    assert m["slope_per_day"] == pytest.approx(3, rel=0.2)
    october = sum(r["billed_cost"] for r in rows if r["charge_period_start"].month == 10)
    assert m["previous_month"] == pytest.approx(october, abs=0.01)
    assert m["growth"] == pytest.approx(m["forecast"] / october - 1, abs=1e-3)
    # growth is a (sustained) driver
    (driver,) = of_kind(report, "cost_driver")
    assert driver.metrics["service"] == "Growing"
    assert driver.metrics["change"] == pytest.approx(3 * 30 * 30, rel=0.1)  # +3/day, 30 days apart


def test_forecast_intervals_cover_the_truth_as_often_as_they_say(views: Views) -> None:
    """20 independent noisy trends (one per currency, so one run forecasts them all):
    the 90 % interval holds the true month total about 90 % of the time."""
    rows, as_of = [], date(2025, 11, 15)
    for k in range(20):
        trend, flat = noisy(1, 0.02, 100 + k), noisy(400, 0.05, 200 + k)
        services = {"Growing": lambda i, d, t=trend: (100 + 3 * i) * t(i, d), "Flat": flat}
        rows += lines(services, 91, currency=f"X{k:02d}")
    views.load("cloud_cost", [r for r in rows if r["charge_period_start"].date() <= as_of])
    forecasts = of_kind(analyze(views.cursor()), "cost_forecast")
    assert len(forecasts) == 20
    covered = 0
    for f in forecasts:
        truth = sum(
            r["billed_cost"]
            for r in rows
            if r["billed_cost"]
            and r["billing_currency"] == f.metrics["currency"]
            and r["charge_period_start"].month == 11
        )
        covered += f.metrics["low"] <= truth <= f.metrics["high"]
    assert 15 <= covered <= 20


def test_clean_data_yields_no_high_severity_finding(views: Views) -> None:
    def weekly(level: float, seed: int) -> Daily:
        noise = noisy(1, 0.12, seed)
        return lambda i, d: level * (0.8 if d.weekday() >= 5 else 1.0) * noise(i, d)

    services = {f"svc-{k}": weekly(50 * (k + 1) ** 2, k) for k in range(8)}
    views.load("cloud_cost", lines(services, 120))
    report = analyze(views.cursor())

    assert [f for f in report.findings if f.severity is Severity.HIGH] == []
    assert of_kind(report, "cost_anomaly") == []
    assert of_kind(report, "cost_driver") == []
    assert of_kind(report, "idle_resource") == []
    (forecast,) = of_kind(report, "cost_forecast")
    assert forecast.severity is Severity.INFO


def test_monthly_charges_are_spend_but_not_anomalies(views: Views) -> None:
    rows = lines({"Compute": noisy(500, 0.05, 5)}, 91)
    for month in (9, 10, 11):
        at = datetime(2025, month, 1, tzinfo=UTC)
        rows.append(
            rows[0]
            | {
                "cost_line_id": f"fee-{month}",
                "service_name": "Support",
                "resource_id": None,
                "charge_category": "Purchase",
                "charge_period_start": at,
                "charge_period_end": datetime(2025, month + 1, 1, tzinfo=UTC),
                "billed_cost": 5000.0,
                "effective_cost": 5000.0,
                "consumed_quantity": None,
            }
        )
    views.load("cloud_cost", rows)
    report = analyze(views.cursor(), FinOpsParams(as_of=date(2025, 11, 30), lookback_days=91))

    assert of_kind(report, "cost_anomaly") == []
    spend = report.summary["spend"]["USD"]
    by_service = {i["key"]: i["cost"] for i in spend["by_service"]}
    assert by_service["Support"] == pytest.approx(15000)
    assert spend["cost"] == pytest.approx(sum(r["billed_cost"] for r in rows), abs=0.05)
    by_month = {i["key"]: i["cost"] for i in spend["by_month"]}
    assert set(by_month) == {"2025-09-01", "2025-10-01", "2025-11-01"}
    # as of November 30 the forecast is for December: no usage yet, the fee is expected
    (forecast,) = of_kind(report, "cost_forecast")
    assert forecast.metrics["month"] == "2025-12-01"
    assert forecast.metrics["actual_to_date"] == 0
    assert forecast.metrics["pending_recurring"] == pytest.approx(5000)
    assert forecast.metrics["usage_remaining"] == pytest.approx(31 * 500, rel=0.05)


def test_idle_resources_cost_without_usage(views: Views) -> None:
    rows = lines({"Compute": noisy(200, 0.05, 6)}, 60)
    idle = lines({"Endpoint": lambda i, d: 20.0}, 60, quantity=0.0)
    views.load("cloud_cost", rows + idle)
    report = analyze(views.cursor())

    (finding,) = of_kind(report, "idle_resource")
    m = finding.metrics
    assert (m["resource_id"], m["days"], m["cost"]) == ("res-endpoint", 14, 280.0)
    assert m["monthly_cost"] == pytest.approx(600.0)
    last_14 = sorted(r["cost_line_id"] for r in idle)[-14:]
    assert sorted(finding.evidence.row_keys) == last_14
    assert len(finding.evidence.rows) == 14
    result = sandbox.run(views.cursor(), finding.evidence.query, max_rows=100, timeout_s=5)
    assert result.row_count == 14


def test_idle_check_says_so_when_quantities_are_not_mapped(views: Views) -> None:
    views.load("cloud_cost", lines({"Compute": noisy(200, 0.05, 7)}, 30, quantity=None))
    report = analyze(views.cursor())
    assert of_kind(report, "idle_resource") == []
    assert any("consumed_quantity" in n for n in report.summary["notes"])


def test_breakdowns_per_dimension_and_currencies_never_mix(views: Views) -> None:
    usd = lines({"Compute": lambda i, d: 10.0, "Storage": lambda i, d: 5.0}, 30, account="a1")
    usd += lines({"Compute": lambda i, d: 1.0}, 30, account="a2")
    eur = lines({"Compute": lambda i, d: 7.0}, 30, currency="EUR")
    views.load("cloud_cost", usd + eur)
    report = analyze(views.cursor())

    spend = report.summary["spend"]
    assert set(spend) == {"USD", "EUR"}
    assert spend["USD"]["cost"] == pytest.approx(30 * 16)
    assert spend["EUR"]["cost"] == pytest.approx(30 * 7)
    assert {i["key"]: i["cost"] for i in spend["USD"]["by_service"]} == {
        "Compute": pytest.approx(330),
        "Storage": pytest.approx(150),
    }
    assert {i["key"]: i["cost"] for i in spend["USD"]["by_sub_account"]} == {
        "a1": pytest.approx(450),
        "a2": pytest.approx(30),
    }
    assert spend["USD"]["by_provider"][0] | {"share": 1.0} == spend["USD"]["by_provider"][0]
    assert len(spend["USD"]["by_day"]) == 30
    assert {f.metrics["currency"] for f in of_kind(report, "cost_forecast")} == {"USD", "EUR"}


def test_an_empty_view_is_a_report_without_findings(views: Views) -> None:
    views.load("account", [{"account_id": "1", "name": "x"}])
    report = analyze(views.cursor())
    assert report.findings == [] and report.summary["notes"] == ["cloud_cost holds no cost lines"]


def test_a_missing_view_is_an_analysis_error(tmp_path: Any) -> None:
    import duckdb

    with pytest.raises(AnalysisError, match="cloud_cost"):
        analyze(duckdb.connect(str(tmp_path / "bare.duckdb")))


def test_parameters_are_checked() -> None:
    assert validate_params("finops", {"anomaly_z": 5}) == {"anomaly_z": 5.0}
    with pytest.raises(AgentInputError, match="anomaly_z"):
        validate_params("finops", {"anomaly_z": -1})
    with pytest.raises(AgentInputError, match="unknown"):
        validate_params("finops", {"unknown": 1})
    with pytest.raises(AgentInputError, match="no internal agent"):
        validate_params("nope", {})
    with pytest.raises(ValidationError, match="high band"):
        FinOpsParams(anomaly_severity={"medium": 0.5, "high": 0.1})  # type: ignore[arg-type]


def test_run_analysis_returns_plain_data(views: Views) -> None:
    views.load("cloud_cost", lines({"Compute": noisy(100, 0.05, 8)}, 40))
    data = run_analysis(views.cursor(), "finops", {"lookback_days": 30})
    report = AgentReport.model_validate(data)
    assert report.agent == "finops" and report.summary["window"]["from"] == "2025-09-11"


def test_a_missing_analysed_cost_falls_back_to_the_other(views: Views) -> None:
    rows = lines({"Compute": lambda i, d: 10.0}, 20)
    for r in rows[:5]:
        r["effective_cost"] = None  # e.g. lines the source did not amortise
    views.load("cloud_cost", rows)
    spend = analyze(views.cursor()).summary["spend"]["USD"]
    assert spend["cost"] == pytest.approx(200.0)
    billed = analyze(views.cursor(), FinOpsParams(cost_column="billed_cost"))
    assert billed.summary["spend"]["USD"]["cost"] == pytest.approx(200.0)


def _exact_daily(views: Views) -> list[tuple[Any, ...]]:
    """The daily grain grouped by the columns themselves (what the hashed scan must equal)."""
    return (
        views.cursor()
        .execute(
            "SELECT CAST(timezone('UTC', charge_period_start) AS DATE) AS day, "
            "upper(coalesce(billing_currency, '')), coalesce(provider_name, ''), "
            "coalesce(service_name, ''), coalesce(sub_account_id, ''), coalesce(region_id, ''), "
            "(charge_category IS NULL OR lower(charge_category) LIKE '%usage%') AND "
            "charge_period_end <= charge_period_start + INTERVAL 36 HOUR, "
            "round(sum(effective_cost), 6) FROM cloud_cost GROUP BY ALL ORDER BY ALL"
        )
        .fetchall()
    )


def _daily_of_run(views: Views) -> list[tuple[Any, ...]]:
    con = views.cursor()
    p = FinOpsParams()
    w = prepare.plan_window(con, p)
    assert w is not None
    with scratch(con) as s:
        daily = prepare.daily_table(s, p, w)
        return con.execute(
            f"SELECT day, currency, provider, service, sub_account, region, usage, "
            f"round(cost, 6) FROM {daily.view} ORDER BY ALL"
        ).fetchall()


def _scattered_keys() -> list[dict[str, Any]]:
    """Key tuples that each occur on days of their own (more than the days the names are
    read from one at a time), null and empty names, a null and an empty category, and a
    monthly line."""
    rows = lines({"Compute": lambda i, d: 10.0, "Storage": lambda i, d: 3.0}, 40)
    for n in range(8):  # service n is billed only on days 4n and 4n + 1
        for r in lines(
            {f"Batch-{n}": lambda i, d, n=n: 1.0 + n}, 2, start=START + timedelta(days=4 * n)
        ):
            rows.append(r | {"sub_account_id": None if n == 3 else ("" if n == 4 else "b")})
    rows[0] = rows[0] | {"charge_category": None}
    rows[1] = rows[1] | {"charge_category": ""}
    rows[2] = rows[2] | {"region_id": None}
    fee = dict(rows[3]) | {"cost_line_id": "fee", "charge_category": "Fee"}
    fee["charge_period_end"] = fee["charge_period_start"] + timedelta(days=30)
    return [*rows, fee]


def test_the_hashed_daily_scan_equals_grouping_by_the_columns(views: Views) -> None:
    views.load("cloud_cost", _scattered_keys())
    assert _daily_of_run(views) == _exact_daily(views)


def test_a_shared_key_hash_falls_back_to_grouping_by_the_columns(
    views: Views, monkeypatch: pytest.MonkeyPatch
) -> None:
    views.load("cloud_cost", _scattered_keys())
    expected = _exact_daily(views)
    # tuples of one provider and currency collide (Compute and Storage on the day the
    # names are read from first: that is how a collision is seen)
    monkeypatch.setattr(prepare, "_KEY", "hash(billing_currency, provider_name)")
    assert _daily_of_run(views) == expected


def test_a_resource_with_any_measured_usage_is_not_idle(views: Views) -> None:
    rows = lines({"Compute": noisy(200, 0.05, 9)}, 30)
    idle = lines({"Endpoint": lambda i, d: 20.0}, 30, quantity=0.0)
    busy = lines({"Queue": lambda i, d: 20.0}, 30, quantity=0.0)
    busy[-5] = busy[-5] | {"consumed_quantity": 2.0}  # used once in the last 14 days
    views.load("cloud_cost", rows + idle + busy)
    report = analyze(views.cursor())
    assert [f.metrics["resource_id"] for f in of_kind(report, "idle_resource")] == ["res-endpoint"]
