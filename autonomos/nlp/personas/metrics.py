"""The numbers each persona reads off the tenant's unified views: one SELECT each, run
through the DCL's read-only sandbox (the same one ``POST /api/v1/dcl/query`` runs), so
every number's citation is a query the user can run again.

Sources map different subsets of the ontology: a metric whose view is empty or whose
query fails on this tenant's columns is left out, never guessed. Amounts in different
currencies are never added (one statement per currency, the largest first).
"""

# ruff: noqa: S608 - identifiers are constants; no value comes from a request
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autonomos.agents.findings import money
from autonomos.common.errors import AutonomosError
from autonomos.dcl.port import DCLPort
from autonomos.nlp.personas.catalog import Persona

log = logging.getLogger("autonomos.nlp.personas")

Rows = list[dict[str, Any]]
CLOSED = "coalesce(is_closed, lower(coalesce(stage, '')) LIKE 'closed%')"
WON = f"({CLOSED} AND coalesce(is_won, lower(coalesce(stage, '')) LIKE '%won%'))"
CUR = "upper(coalesce({col}, ''))"
OPEN_TICKET = "lower(coalesce(status, '')) NOT IN ('closed', 'solved', 'resolved')"
RECENT_COSTS = (
    "charge_period_start >= (SELECT max(charge_period_start) FROM cloud_cost) - INTERVAL 30 DAY"
)


@dataclass(frozen=True, slots=True)
class Metric:
    """``sql`` over ``view``; ``say`` turns its rows into sentences (none: nothing to say)."""

    id: str
    view: str
    sql: str
    say: Callable[[Rows], list[str]]
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class MetricValue:
    metric: Metric
    statement: str
    rows: Rows


def _n(value: Any) -> int:
    return int(value or 0)


def _pipeline(rows: Rows) -> list[str]:
    return [
        f"Open pipeline is {money(r['amount'], r['currency'])} across {_n(r['deals'])} deals "
        f"(weighted by probability: {money(r['weighted'], r['currency'])})."
        for r in rows
        if _n(r["deals"])
    ]


def _win_rate(rows: Rows) -> list[str]:
    r = rows[0] if rows else {}
    closed = _n(r.get("won")) + _n(r.get("lost"))
    if not closed:
        return []
    return [
        f"Win rate is {_n(r['won']) / closed:.0%} ({_n(r['won'])} won of {closed} closed deals)."
    ]


def _top_accounts(rows: Rows) -> list[str]:
    if not rows:
        return []
    named = ", ".join(f"{r['account']} ({money(r['amount'], r['currency'])})" for r in rows)
    return [f"The largest open pipelines are with {named}."]


def _receivables(rows: Rows) -> list[str]:
    return [
        f"Receivables: {money(r['due'], r['currency'])} outstanding on {_n(r['invoices'])} "
        f"invoices, {money(r['overdue'], r['currency'])} of it past due "
        f"({_n(r['overdue_invoices'])} invoices)."
        for r in rows
        if _n(r["invoices"])
    ]


def _mrr(rows: Rows) -> list[str]:
    return [
        f"Recurring revenue is {money(r['mrr'], r['currency'])} a month from "
        f"{_n(r['subscriptions'])} active subscriptions."
        for r in rows
        if _n(r["subscriptions"])
    ]


def _collected(rows: Rows) -> list[str]:
    return [
        f"Payments collected: {money(r['amount'], r['currency'])} from {_n(r['payments'])} "
        "successful payments."
        for r in rows
        if _n(r["payments"])
    ]


def _cloud_spend(rows: Rows) -> list[str]:
    return [
        f"Cloud spend over the last 30 days of cost data is {money(r['cost'], r['currency'])} "
        f"across {_n(r['services'])} services."
        for r in rows
        if r["cost"] is not None
    ]


def _top_services(rows: Rows) -> list[str]:
    if not rows:
        return []
    named = ", ".join(f"{r['service']} ({money(r['cost'], r['currency'])})" for r in rows)
    return [f"The biggest cloud cost drivers over the last 30 days are {named}."]


def _resources(rows: Rows) -> list[str]:
    r = rows[0] if rows else {}
    if not _n(r.get("resources")):
        return []
    return [
        f"{_n(r['resources'])} cloud resources billed in {_n(r['regions'])} regions over the "
        "last 30 days of cost data."
    ]


def _backlog(rows: Rows) -> list[str]:
    r = rows[0] if rows else {}
    if not _n(r.get("total")):
        return []
    return [
        f"Support backlog: {_n(r['open'])} open tickets of {_n(r['total'])}, "
        f"{_n(r['urgent'])} of them high or urgent priority."
    ]


def _resolution(rows: Rows) -> list[str]:
    r = rows[0] if rows else {}
    if r.get("median_hours") is None:
        return []
    return [
        f"Resolved tickets took a median of {float(r['median_hours']):.1f} hours "
        f"({_n(r['resolved'])} resolved)."
    ]


def _accounts(rows: Rows) -> list[str]:
    r = rows[0] if rows else {}
    if not _n(r.get("accounts")):
        return []
    return [f"The unified account view holds {_n(r['accounts'])} customer accounts."]


PIPELINE = Metric(
    "open_pipeline",
    "opportunity",
    f"SELECT {CUR.format(col='currency')} AS currency, count(*) AS deals, "
    "sum(CAST(amount AS DOUBLE)) AS amount, "
    "sum(CAST(amount AS DOUBLE) * least(greatest(CAST(probability AS DOUBLE), 0), 100) / 100) "
    f"AS weighted FROM opportunity WHERE NOT {CLOSED} GROUP BY 1 "
    "ORDER BY amount DESC NULLS LAST LIMIT 3",
    _pipeline,
    3.0,
)
WIN_RATE = Metric(
    "win_rate",
    "opportunity",
    f"SELECT count(*) FILTER (WHERE {WON}) AS won, count(*) FILTER (WHERE {CLOSED} AND NOT "
    f"{WON}) AS lost FROM opportunity",
    _win_rate,
    2.5,
)
TOP_ACCOUNTS = Metric(
    "top_accounts",
    "opportunity",
    "SELECT coalesce(a.name, o.account_id, '(no account)') AS account, "
    f"{CUR.format(col='o.currency')} AS currency, sum(CAST(o.amount AS DOUBLE)) AS amount "
    "FROM opportunity o LEFT JOIN account a ON a.account_id = o.account_id "
    f"WHERE NOT coalesce(o.is_closed, lower(coalesce(o.stage, '')) LIKE 'closed%') "
    "AND o.amount IS NOT NULL GROUP BY 1, 2 ORDER BY amount DESC LIMIT 3",
    _top_accounts,
    1.5,
)
RECEIVABLES = Metric(
    "receivables",
    "invoice",
    f"SELECT {CUR.format(col='currency')} AS currency, count(*) AS invoices, "
    "sum(CAST(amount_due AS DOUBLE)) AS due, "
    "count(*) FILTER (WHERE due_at < now()) AS overdue_invoices, "
    "coalesce(sum(CAST(amount_due AS DOUBLE)) FILTER (WHERE due_at < now()), 0) AS overdue "
    "FROM invoice WHERE CAST(amount_due AS DOUBLE) > 0 "
    "AND lower(coalesce(status, '')) NOT IN ('paid', 'void', 'draft', 'uncollectible') "
    "GROUP BY 1 ORDER BY due DESC LIMIT 3",
    _receivables,
    3.0,
)
MRR = Metric(
    "mrr",
    "subscription",
    f"SELECT {CUR.format(col='currency')} AS currency, count(*) AS subscriptions, "
    "sum(CAST(mrr AS DOUBLE)) AS mrr FROM subscription "
    "WHERE lower(coalesce(status, '')) IN ('active', 'trialing', 'past_due') "
    "GROUP BY 1 ORDER BY mrr DESC NULLS LAST LIMIT 3",
    _mrr,
    2.5,
)
COLLECTED = Metric(
    "payments_collected",
    "payment",
    f"SELECT {CUR.format(col='currency')} AS currency, count(*) AS payments, "
    "sum(CAST(amount AS DOUBLE)) AS amount FROM payment "
    "WHERE lower(coalesce(status, '')) IN ('succeeded', 'paid', 'completed') "
    "GROUP BY 1 ORDER BY amount DESC NULLS LAST LIMIT 3",
    _collected,
    1.5,
)
CLOUD_SPEND = Metric(
    "cloud_spend_30d",
    "cloud_cost",
    f"SELECT {CUR.format(col='billing_currency')} AS currency, "
    "sum(CAST(billed_cost AS DOUBLE)) AS cost, count(DISTINCT service_name) AS services "
    f"FROM cloud_cost WHERE {RECENT_COSTS} GROUP BY 1 ORDER BY cost DESC NULLS LAST LIMIT 3",
    _cloud_spend,
    2.0,
)
TOP_SERVICES = Metric(
    "cloud_top_services",
    "cloud_cost",
    "SELECT coalesce(service_name, '(unnamed)') AS service, "
    f"{CUR.format(col='billing_currency')} AS currency, "
    "sum(CAST(billed_cost AS DOUBLE)) AS cost "
    f"FROM cloud_cost WHERE {RECENT_COSTS} GROUP BY 1, 2 ORDER BY cost DESC NULLS LAST LIMIT 3",
    _top_services,
    1.8,
)
RESOURCES = Metric(
    "cloud_resources",
    "cloud_cost",
    "SELECT count(DISTINCT resource_id) AS resources, count(DISTINCT region_id) AS regions "
    f"FROM cloud_cost WHERE {RECENT_COSTS}",
    _resources,
    1.0,
)
BACKLOG = Metric(
    "support_backlog",
    "ticket",
    f"SELECT count(*) AS total, count(*) FILTER (WHERE {OPEN_TICKET}) AS open, "
    f"count(*) FILTER (WHERE {OPEN_TICKET} AND lower(coalesce(priority, '')) IN "
    "('high', 'urgent')) AS urgent FROM ticket",
    _backlog,
    3.0,
)
RESOLUTION = Metric(
    "ticket_resolution",
    "ticket",
    "SELECT count(*) AS resolved, median(epoch(resolved_at - created_at) / 3600.0) "
    "AS median_hours FROM ticket WHERE resolved_at IS NOT NULL AND resolved_at >= created_at",
    _resolution,
    2.0,
)
ACCOUNTS = Metric(
    "accounts",
    "account",
    "SELECT count(*) AS accounts FROM account",
    _accounts,
    0.5,
)

METRICS: dict[Persona, tuple[Metric, ...]] = {
    Persona.CFO: (RECEIVABLES, MRR, CLOUD_SPEND, COLLECTED, PIPELINE),
    Persona.CRO: (PIPELINE, WIN_RATE, TOP_ACCOUNTS, MRR, ACCOUNTS),
    Persona.COO: (BACKLOG, RESOLUTION, ACCOUNTS, WIN_RATE),
    Persona.CTO: (CLOUD_SPEND, TOP_SERVICES, RESOURCES),
}


async def read_metrics(
    dcl: DCLPort, tenant_id: uuid.UUID, metrics: tuple[Metric, ...], views: set[str]
) -> list[MetricValue]:
    """Each metric whose view has rows, run in the sandbox; failures are left out."""
    out: list[MetricValue] = []
    for metric in metrics:
        if metric.view not in views:
            continue
        try:
            result = await dcl.query(tenant_id, metric.sql, limit=50)
        except AutonomosError as e:  # a column this tenant's sources do not map
            log.debug("metric %s skipped for tenant %s: %s", metric.id, tenant_id, e)
            continue
        names = [c["name"] for c in result.columns]
        rows = [dict(zip(names, row, strict=True)) for row in result.rows]
        out += [MetricValue(metric, s, rows) for s in metric.say(rows)]
    return out
