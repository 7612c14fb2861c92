"""The RevOps agent on deals each test generates and materialises through the DCL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from autonomos.agents.findings import AgentReport, Finding, Severity
from autonomos.agents.revops import RevOpsParams, analyze
from autonomos.dcl import sandbox
from tests.unit.agents.conftest import Views

AS_OF = date(2025, 12, 31)


def at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 12, tzinfo=UTC)


def deal(n: int, **kw: Any) -> dict[str, Any]:
    """An open, healthy deal (closes next quarter, updated last week) unless told."""
    row = {
        "opportunity_id": f"006{n:05d}",
        "account_id": f"001{n % 40:05d}",
        "name": f"Deal {n}",
        "amount": 10_000.0,
        "currency": "USD",
        "stage": "Proposal",
        "probability": 50.0,
        "close_date": AS_OF + timedelta(days=45),
        "owner_id": "005A",
        "is_closed": False,
        "is_won": False,
        "created_at": at(AS_OF - timedelta(days=60)),
        "updated_at": at(AS_OF - timedelta(days=5)),
    }
    return row | kw


def healthy_pipeline() -> list[dict[str, Any]]:
    rows = [deal(n) for n in range(40)]
    rows[0]["updated_at"] = at(AS_OF)  # the data's own "now"
    for n in range(40, 46):  # 6 won, created 30 + 10k days before closing
        close = AS_OF - timedelta(days=20 + n)
        rows.append(
            deal(
                n,
                stage="Closed Won",
                probability=100.0,
                is_closed=True,
                is_won=True,
                close_date=close,
                created_at=at(close - timedelta(days=30 + 10 * (n - 40))),
            )
        )
    for n in range(46, 50):  # 4 lost
        rows.append(
            deal(
                n,
                stage="Closed Lost",
                probability=0.0,
                is_closed=True,
                close_date=AS_OF - timedelta(days=40),
            )
        )
    return rows


def accounts() -> list[dict[str, Any]]:
    return [{"account_id": f"001{k:05d}", "name": f"Company {k}"} for k in range(40)]


def of_kind(report: AgentReport, kind: str) -> list[Finding]:
    return [f for f in report.findings if f.kind == kind]


def test_healthy_pipeline_numbers_and_no_findings(views: Views) -> None:
    views.load("opportunity", healthy_pipeline())
    views.load("account", accounts())
    report = analyze(views.cursor())

    assert report.as_of == AS_OF
    assert report.findings == []
    s = report.summary
    assert s["pipeline"]["USD"] == {
        "open_deals": 40,
        "open_amount": 400_000.0,
        "weighted_amount": 200_000.0,
    }
    (stage,) = s["by_stage"]
    assert (stage["stage"], stage["deals"], stage["amount"], stage["weighted"]) == (
        "Proposal",
        40,
        400_000.0,
        200_000.0,
    )
    win = s["win_rate"]
    assert (win["won"], win["lost"], win["win_rate"]) == (6, 4, 0.6)
    assert win["avg_cycle_days"] == pytest.approx(30 + 10 * 2.5)  # 30, 40, ... 80 days
    assert win["median_cycle_days"] == pytest.approx(55)
    assert win["by_amount"][0]["win_rate"] == pytest.approx(0.6)


def test_a_slipped_deal_is_found_with_its_numbers(views: Views) -> None:
    rows = healthy_pipeline()
    rows.append(deal(99, name="Big Slip", amount=50_000.0, close_date=date(2025, 12, 1)))
    views.load("opportunity", rows)
    views.load("account", accounts())
    report = analyze(views.cursor())

    (slipped,) = of_kind(report, "slipped_deals")
    m = slipped.metrics
    assert (m["deals"], m["amount"], m["max_days_overdue"]) == (1, 50_000.0, 30)
    assert m["share_of_pipeline"] == pytest.approx(50_000 / 450_000, abs=1e-4)
    assert slipped.severity is Severity.MEDIUM  # 11 %: between the 5 % and 15 % bands
    assert slipped.evidence.row_keys == ["00600099"]
    assert slipped.evidence.rows[0]["name"] == "Big Slip"
    assert "Big Slip" in slipped.summary and "30 day(s) ago" in slipped.summary
    result = sandbox.run(views.cursor(), slipped.evidence.query, max_rows=100, timeout_s=5)
    assert [r[0] for r in result.rows] == ["00600099"]
    assert of_kind(report, "stale_deals") == []


def test_a_stale_deal_is_found_with_its_numbers(views: Views) -> None:
    rows = healthy_pipeline()
    rows.append(deal(98, name="Quiet", amount=20_000.0, updated_at=at(date(2025, 10, 1))))
    views.load("opportunity", rows)
    views.load("account", accounts())
    report = analyze(views.cursor(), RevOpsParams(stale_days=30))

    (stale,) = of_kind(report, "stale_deals")
    m = stale.metrics
    assert (m["deals"], m["amount"], m["max_days_since_update"]) == (1, 20_000.0, 91)
    assert stale.evidence.row_keys == ["00600098"]
    assert stale.severity is Severity.LOW  # 4.8 % of the pipeline
    result = sandbox.run(views.cursor(), stale.evidence.query, max_rows=100, timeout_s=5)
    assert [r[0] for r in result.rows] == ["00600098"]
    # a longer patience makes it not stale
    assert of_kind(analyze(views.cursor(), RevOpsParams(stale_days=120)), "stale_deals") == []


def test_concentration_risk_names_the_accounts(views: Views) -> None:
    rows = [deal(n, account_id=f"001{n % 3:05d}", amount=100_000.0) for n in range(6)]
    rows += [deal(n, account_id=f"001{n:05d}", amount=5_000.0) for n in range(10, 30)]
    views.load("opportunity", rows)
    views.load("account", accounts())
    report = analyze(views.cursor(), RevOpsParams(concentration_top_accounts=3))

    (finding,) = of_kind(report, "pipeline_concentration")
    m = finding.metrics
    # accounts 0-2 hold the six 100k deals; twenty 5k deals sit in accounts 10-29
    assert m["top_share"] == pytest.approx(600_000 / 700_000, abs=1e-4)
    assert m["largest_share"] == pytest.approx(200_000 / 700_000, abs=1e-4)
    assert finding.severity is Severity.HIGH
    assert set(finding.evidence.row_keys) == {"00100000", "00100001", "00100002"}
    assert "Company 0" in finding.summary
    result = sandbox.run(views.cursor(), finding.evidence.query, max_rows=10, timeout_s=5)
    assert sorted(r[0] for r in result.rows) == ["00100000", "00100001", "00100002"]
    # 23 accounts: too few to judge when asked for 30
    few = RevOpsParams(concentration_top_accounts=3, concentration_min_accounts=30)
    assert of_kind(analyze(views.cursor(), few), "pipeline_concentration") == []


def test_stage_fallbacks_currencies_and_missing_amounts(views: Views) -> None:
    rows = healthy_pipeline()
    rows.append(deal(90, stage="Closed Won", is_closed=None, is_won=None, close_date=AS_OF))
    rows.append(deal(91, currency="eur", amount=None, close_date=date(2025, 11, 1)))
    rows.append(deal(92, currency="EUR", amount=7_000.0))
    views.load("opportunity", rows)
    views.load("account", accounts())
    report = analyze(views.cursor())

    pipeline = report.summary["pipeline"]
    assert pipeline["USD"]["open_deals"] == 40  # deal 90 is closed (its stage says so)
    assert pipeline["EUR"] == {"open_deals": 2, "open_amount": 7_000.0, "weighted_amount": 3_500.0}
    assert report.summary["win_rate"]["won"] == 7
    (slipped,) = of_kind(report, "slipped_deals")  # EUR, no amount: counted, not summed
    assert (slipped.metrics["currency"], slipped.metrics["deals"], slipped.metrics["amount"]) == (
        "EUR",
        1,
        0.0,
    )


def test_an_empty_pipeline(views: Views) -> None:
    views.load("account", accounts())
    report = analyze(views.cursor(), RevOpsParams(as_of=AS_OF))
    assert report.findings == [] and report.summary["pipeline"] == {}


def test_the_fast_utc_day_is_the_readable_one() -> None:
    import duckdb

    from autonomos.agents.revops import queries as q

    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/New_York'")  # neither form may depend on it
    rows = con.execute(
        f"SELECT {q.UPDATED}, {q._UPDATED} FROM (SELECT unnest(["
        "TIMESTAMPTZ '2025-03-01 00:00:00+00', TIMESTAMPTZ '2025-02-28 23:59:59.999999+00', "
        "TIMESTAMPTZ '2025-03-01 01:00:00+05', TIMESTAMPTZ '1969-12-31 23:00:00+00', "
        "TIMESTAMPTZ '1900-06-15 12:00:00+00']) AS updated_at)"
    ).fetchall()
    assert all(readable == fast for readable, fast in rows), rows
