"""The set-based SQL of the RevOps agent over ``opportunity`` (and ``account`` for names).

Deal states, from the ontology's fields with fallbacks for sources that map fewer:
*closed* is ``is_closed``, else a stage starting with "closed"; *won* is ``is_won``, else
a stage containing "won"; *probability* is a percent (0-100, clamped). Amounts in
different currencies are never added: every total is per currency (a missing currency is
its own group, ``''``). Deals without an amount count in the numbers of deals, not in
the sums. Soft-deleted deals never reach the view.
"""

# ruff: noqa: S608 - identifiers are constants, values bound
from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from autonomos.agents._sql import records

VIEW = "opportunity"
ACCOUNTS = "account"
CLOSED = "coalesce(is_closed, lower(coalesce(stage, '')) LIKE 'closed%')"
WON = f"({CLOSED} AND coalesce(is_won, lower(coalesce(stage, '')) LIKE '%won%'))"
OPEN = f"NOT {CLOSED}"
CURRENCY = "upper(coalesce(currency, ''))"
AMOUNT = "CAST(amount AS DOUBLE)"
PROBABILITY = "least(greatest(CAST(probability AS DOUBLE), 0), 100) / 100"
UPDATED = "CAST(timezone('UTC', updated_at) AS DATE)"
CREATED = "CAST(timezone('UTC', created_at) AS DATE)"
DEAL_COLUMNS = (
    f"opportunity_id, name, account_id, stage, {CURRENCY} AS currency, {AMOUNT} AS amount, "
    f"close_date, {UPDATED} AS updated_on, owner_id"
)


def as_of_default(con: duckdb.DuckDBPyConnection) -> date | None:
    row = con.execute(f"SELECT max({UPDATED}), max({CREATED}) FROM main.{VIEW}").fetchone()
    return (row[0] or row[1]) if row else None


def pipeline_by_stage(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return records(
        con,
        f"SELECT {CURRENCY} AS currency, coalesce(stage, '') AS stage, count(*) AS deals, "
        f"coalesce(sum({AMOUNT}), 0) AS amount, "
        f"coalesce(sum({AMOUNT} * {PROBABILITY}), 0) AS weighted, "
        f"round(avg({PROBABILITY}) * 100, 1) AS avg_probability, "
        f"count(*) FILTER (WHERE amount IS NULL) AS missing_amount, "
        f"count(*) FILTER (WHERE probability IS NULL) AS missing_probability "
        f"FROM main.{VIEW} WHERE {OPEN} GROUP BY ALL "
        "ORDER BY currency, avg_probability NULLS FIRST, stage",
    )


def totals(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Per currency: open deals, open amount, weighted amount."""
    rows = records(
        con,
        f"SELECT {CURRENCY} AS currency, count(*) AS open_deals, "
        f"coalesce(sum({AMOUNT}), 0) AS open_amount, "
        f"coalesce(sum({AMOUNT} * {PROBABILITY}), 0) AS weighted_amount "
        f"FROM main.{VIEW} WHERE {OPEN} GROUP BY ALL ORDER BY currency",
    )
    return {r.pop("currency"): r for r in rows}


def win_rate(con: duckdb.DuckDBPyConnection, since: date, as_of: date) -> dict[str, Any]:
    """Deals closed in [since, as_of]: won/lost counts and rate; won amount per currency;
    sales cycle (created to close) of the won ones."""
    row = records(
        con,
        f"SELECT count(*) FILTER (WHERE {WON}) AS won, "
        f"count(*) FILTER (WHERE NOT {WON}) AS lost, "
        f"count(*) FILTER (WHERE {WON}) / nullif(count(*), 0) AS win_rate, "
        f"avg(close_date - {CREATED}) FILTER (WHERE {WON} AND close_date >= {CREATED}) "
        "AS avg_cycle_days, "
        f"median(close_date - {CREATED}) FILTER (WHERE {WON} AND close_date >= {CREATED}) "
        "AS median_cycle_days "
        f"FROM main.{VIEW} WHERE {CLOSED} AND close_date BETWEEN ? AND ?",
        [since, as_of],
    )[0]
    by_currency = records(
        con,
        f"SELECT {CURRENCY} AS currency, coalesce(sum({AMOUNT}) FILTER (WHERE {WON}), 0) AS won, "
        f"coalesce(sum({AMOUNT}), 0) AS closed, "
        f"sum({AMOUNT}) FILTER (WHERE {WON}) / nullif(sum({AMOUNT}), 0) AS win_rate "
        f"FROM main.{VIEW} WHERE {CLOSED} AND close_date BETWEEN ? AND ? GROUP BY ALL "
        "ORDER BY currency",
        [since, as_of],
    )
    return row | {"by_amount": by_currency, "from": since.isoformat(), "to": as_of.isoformat()}


def overdue_deals(
    con: duckdb.DuckDBPyConnection, before: date, as_of: date
) -> list[dict[str, Any]]:
    """Open deals whose close date is before ``before``, largest first."""
    return records(
        con,
        f"SELECT {DEAL_COLUMNS}, CAST(? AS DATE) - close_date AS days_overdue "
        f"FROM main.{VIEW} WHERE {OPEN} AND close_date < ? "
        "ORDER BY currency, amount DESC NULLS LAST, close_date, opportunity_id",
        [as_of, before],
    )


def stale_deals(con: duckdb.DuckDBPyConnection, before: date, as_of: date) -> list[dict[str, Any]]:
    """Open deals last updated before ``before``, largest first."""
    return records(
        con,
        f"SELECT {DEAL_COLUMNS}, CAST(? AS DATE) - {UPDATED} AS days_since_update "
        f"FROM main.{VIEW} WHERE {OPEN} AND {UPDATED} < ? "
        "ORDER BY currency, amount DESC NULLS LAST, updated_on, opportunity_id",
        [as_of, before],
    )


def has_updates(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(f"SELECT count(updated_at) FROM main.{VIEW} WHERE {OPEN}").fetchone()
    return bool(row and row[0])


def pipeline_by_account(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Open pipeline per (currency, account) with the account's name when known."""
    return records(
        con,
        f"WITH names AS (SELECT account_id, min(name) AS account_name FROM main.{ACCOUNTS} "
        "WHERE account_id IS NOT NULL GROUP BY account_id) "
        f"SELECT {CURRENCY} AS currency, coalesce(o.account_id, '') AS account_id, "
        f"any_value(n.account_name) AS account_name, count(*) AS deals, "
        f"coalesce(sum({AMOUNT}), 0) AS amount FROM main.{VIEW} AS o "
        f"LEFT JOIN names AS n USING (account_id) WHERE {OPEN} GROUP BY ALL "
        "ORDER BY currency, amount DESC, account_id",
    )
