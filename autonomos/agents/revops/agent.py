"""The RevOps agent: pipeline by stage, weighted pipeline, win rate, sales cycle, and
findings on slipped deals, stale deals and concentration risk, over the tenant's
``opportunity`` and ``account`` views.

:func:`analyze` is a plain function over a DuckDB connection to the tenant's views (a
cursor of the DCL's instance); every number is a set-based query (see ``queries``).
"""

# ruff: noqa: S608 - evidence queries quote every value with literal()
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from typing import Any

import duckdb

from autonomos.agents._sql import literal, require_view, scratch
from autonomos.agents.findings import (
    MAX_EVIDENCE_ROWS,
    AgentReport,
    Evidence,
    Finding,
    Severity,
    finding_key,
    money,
)
from autonomos.agents.revops import NAME
from autonomos.agents.revops import queries as q
from autonomos.agents.revops.params import RevOpsParams


def analyze(con: duckdb.DuckDBPyConnection, params: RevOpsParams | None = None) -> AgentReport:
    """Run the RevOps analysis on ``con`` (a connection to the tenant's views)."""
    p = params or RevOpsParams()
    require_view(con, q.VIEW)
    require_view(con, q.ACCOUNTS)
    with scratch(con):
        as_of = p.as_of or q.as_of_default(con) or datetime.now(UTC).date()
        totals = q.totals(con)
        slipped = q.overdue_deals(con, as_of - timedelta(days=p.slipped_grace_days), as_of)
        notes = []
        if q.has_updates(con):
            stale = q.stale_deals(con, as_of - timedelta(days=p.stale_days), as_of)
        else:
            stale = []
            notes.append("stale deals: skipped, no open deal has an updated_at (is it mapped?)")
        accounts = q.pipeline_by_account(con, max(p.top_n, p.concentration_top_accounts + 1))
        named = {r["currency"]: r.pop("named_accounts") for r in accounts}
        summary: dict[str, Any] = {
            "as_of": as_of.isoformat(),
            "pipeline": totals,
            "by_stage": q.pipeline_by_stage(con),
            "win_rate": q.win_rate(con, as_of - timedelta(days=p.win_rate_days - 1), as_of),
            "slipped": _counts(slipped),
            "stale": _counts(stale),
            "top_accounts": {
                c: list(rows)[: p.top_n] for c, rows in groupby(accounts, lambda r: r["currency"])
            },
            "notes": notes,
        }
    findings: list[Finding] = []
    findings += [_slipped(p, as_of, d, totals[d.currency]) for d in slipped]
    findings += [_stale(p, as_of, d, totals[d.currency]) for d in stale]
    for currency, rows in groupby(accounts, lambda r: r["currency"]):
        finding = _concentration(p, currency, list(rows), named[currency], totals[currency])
        if finding is not None:
            findings.append(finding)
    findings.sort(key=lambda f: (-f.severity.rank, f.kind, f.key))
    return AgentReport(agent=NAME, as_of=as_of, findings=findings, summary=summary)


def _counts(sets: list[q.DealSet]) -> dict[str, dict[str, float]]:
    return {d.currency: {"deals": d.deals, "amount": d.amount} for d in sets}


def _open_in(currency: str) -> str:
    return f"{q.OPEN} AND {q.CURRENCY} = {literal(currency)}"


def _deal_finding(
    kind: str,
    severity: Severity,
    title: str,
    summary: str,
    currency: str,
    deals: list[dict[str, Any]],
    metrics: dict[str, Any],
    query: str,
    as_of: date,
) -> Finding:
    """``deals``: the first deals in the finding's order (its evidence)."""
    return Finding(
        kind=kind,
        severity=severity,
        title=title[:300],
        summary=summary,
        key=finding_key(kind, currency),
        metrics=metrics,
        evidence=Evidence(
            view=q.VIEW,
            query=query,
            row_keys=[str(d["opportunity_id"]) for d in deals[:MAX_EVIDENCE_ROWS]],
            rows=deals[:MAX_EVIDENCE_ROWS],
        ),
    )


def _slipped(p: RevOpsParams, as_of: date, ds: q.DealSet, total: dict[str, Any]) -> Finding:
    currency, count, amount, worst, deals = ds.currency, ds.deals, ds.amount, ds.max_days, ds.top
    share = amount / total["open_amount"] if total["open_amount"] else None
    cutoff = as_of - timedelta(days=p.slipped_grace_days)
    top = deals[0]
    query = (
        f"SELECT {q.DEAL_COLUMNS}, {literal(as_of)} - close_date AS days_overdue FROM {q.VIEW} "
        f"WHERE {_open_in(currency)} AND close_date < {literal(cutoff)} "
        "ORDER BY amount DESC NULLS LAST, close_date, opportunity_id"
    )
    return _deal_finding(
        "slipped_deals",
        p.slipped_severity.severity(share),
        f"{count} open deal(s) worth {money(amount, currency)} are past their close date",
        (
            f"{count} deal(s) still open after their close date, "
            f"{money(amount, currency)} ({_share_text(share)} of the open pipeline); the "
            f"largest is {top['name'] or top['opportunity_id']} "
            f"({money(top['amount'], currency)}, due {top['close_date']}, "
            f"{top['days_overdue']} day(s) ago); the oldest slipped {worst} day(s) ago."
        ),
        currency,
        deals,
        {
            "currency": currency,
            "deals": count,
            "amount": round(amount, 2),
            "share_of_pipeline": None if share is None else round(share, 4),
            "max_days_overdue": worst,
            "open_amount": round(total["open_amount"], 2),
            "as_of": as_of.isoformat(),
        },
        query,
        as_of,
    )


def _stale(p: RevOpsParams, as_of: date, ds: q.DealSet, total: dict[str, Any]) -> Finding:
    currency, count, amount, longest, deals = ds.currency, ds.deals, ds.amount, ds.max_days, ds.top
    share = amount / total["open_amount"] if total["open_amount"] else None
    cutoff = as_of - timedelta(days=p.stale_days)
    query = (
        f"SELECT {q.DEAL_COLUMNS}, {literal(as_of)} - {q.UPDATED} AS days_since_update "
        f"FROM {q.VIEW} WHERE {_open_in(currency)} AND {q.UPDATED} < {literal(cutoff)} "
        "ORDER BY amount DESC NULLS LAST, updated_on, opportunity_id"
    )
    return _deal_finding(
        "stale_deals",
        p.stale_severity.severity(share),
        f"{count} open deal(s) worth {money(amount, currency)} not updated in {p.stale_days}+ days",
        (
            f"{count} open deal(s), {money(amount, currency)} "
            f"({_share_text(share)} of the open pipeline), have had no update for more than "
            f"{p.stale_days} days; the longest {longest} days."
        ),
        currency,
        deals,
        {
            "currency": currency,
            "deals": count,
            "amount": round(amount, 2),
            "share_of_pipeline": None if share is None else round(share, 4),
            "max_days_since_update": longest,
            "stale_days": p.stale_days,
            "as_of": as_of.isoformat(),
        },
        query,
        as_of,
    )


def _concentration(
    p: RevOpsParams,
    currency: str,
    rows: list[dict[str, Any]],
    named_accounts: int,
    total: dict[str, Any],
) -> Finding | None:
    """``rows``: the currency's largest account pipelines (the top accounts and one more:
    the deals without an account may be among them); ``named_accounts``: how many."""
    open_amount = total["open_amount"]
    named = [r for r in rows if r["account_id"]]
    if named_accounts < p.concentration_min_accounts or open_amount <= 0:
        return None
    top = named[: p.concentration_top_accounts]
    share = sum(r["amount"] for r in top) / open_amount
    if share < p.concentration_severity.medium:
        return None
    first = top[0]
    n = len(top)
    query = (
        f"SELECT account_id, count(*) AS deals, sum(amount) AS amount, "
        f"sum(amount) / (SELECT sum(amount) FROM {q.VIEW} WHERE {_open_in(currency)}) AS share "
        f"FROM {q.VIEW} WHERE {_open_in(currency)} AND account_id IS NOT NULL "
        f"GROUP BY account_id ORDER BY amount DESC NULLS LAST, account_id LIMIT {n}"
    )
    return Finding(
        kind="pipeline_concentration",
        severity=p.concentration_severity.severity(share),
        title=f"{share:.0%} of the {currency or 'open'} pipeline sits in {n} account(s)"[:300],
        summary=(
            f"The top {n} account(s) hold {money(sum(r['amount'] for r in top), currency)} of "
            f"{money(open_amount, currency)} open pipeline ({share:.0%}); the largest, "
            f"{first['account_name'] or first['account_id']}, alone holds "
            f"{first['amount'] / open_amount:.0%}."
        ),
        key=finding_key("pipeline_concentration", currency),
        metrics={
            "currency": currency,
            "top_accounts": n,
            "top_share": round(share, 4),
            "largest_share": round(first["amount"] / open_amount, 4),
            "open_amount": round(open_amount, 2),
            "open_deals": total["open_deals"],
            "accounts": named_accounts,
        },
        evidence=Evidence(
            view=q.VIEW,
            query=query,
            row_keys=[str(r["account_id"]) for r in top],
            rows=top,
        ),
    )


def _share_text(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"
