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

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from autonomos.agents._sql import plain, records
from autonomos.agents.findings import MAX_EVIDENCE_ROWS

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
# What the analysis queries use: the same UTC days by epoch arithmetic (a time-zone
# conversion per row was most of the stale-deal check on a million deals); the readable
# forms above are for the evidence queries people re-run.
_UTC_DAY = "CAST(DATE '1970-01-01' + CAST(floor(epoch_us({}) / 86400000000) AS INTEGER) AS DATE)"
_UPDATED = _UTC_DAY.format("updated_at")
_CREATED = _UTC_DAY.format("created_at")
_DEAL_COLUMNS = DEAL_COLUMNS.replace(UPDATED, _UPDATED)


def as_of_default(con: duckdb.DuckDBPyConnection) -> date | None:
    # the latest instant, then its UTC day (the same day, without a conversion per row)
    row = con.execute(
        "SELECT CAST(timezone('UTC', max(updated_at)) AS DATE), "
        f"CAST(timezone('UTC', max(created_at)) AS DATE) FROM main.{VIEW}"
    ).fetchone()
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
        f"avg(close_date - {_CREATED}) FILTER (WHERE {WON} AND close_date >= {_CREATED}) "
        "AS avg_cycle_days, "
        f"median(close_date - {_CREATED}) FILTER (WHERE {WON} AND close_date >= {_CREATED}) "
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


@dataclass(frozen=True)
class DealSet:
    """The open deals of one currency that match a finding: their number, amount (deals
    without one count, not sum), the largest number of days, and the first
    ``MAX_EVIDENCE_ROWS`` deals in the finding's order (its evidence)."""

    currency: str
    deals: int
    amount: float
    max_days: int
    top: list[dict[str, Any]]


def overdue_deals(con: duckdb.DuckDBPyConnection, before: date, as_of: date) -> list[DealSet]:
    """Per currency: open deals whose close date is before ``before``, largest first."""
    return _deal_sets(
        con,
        f"{OPEN} AND close_date < ?",
        "CAST(? AS DATE) - close_date AS days_overdue",
        "amount DESC NULLS LAST, close_date, opportunity_id",
        [as_of, before],
    )


def stale_deals(con: duckdb.DuckDBPyConnection, before: date, as_of: date) -> list[DealSet]:
    """Per currency: open deals last updated before ``before``, largest first."""
    return _deal_sets(
        con,
        f"{OPEN} AND updated_at < ?",  # the instant, not its UTC day per row: the same test
        f"CAST(? AS DATE) - {_UPDATED} AS days_since_update",
        "amount DESC NULLS LAST, updated_on, opportunity_id",
        [as_of, f"{before.isoformat()} 00:00:00+00"],
    )


def _deal_sets(
    con: duckdb.DuckDBPyConnection, where: str, days: str, order: str, params: list[Any]
) -> list[DealSet]:
    """Counts and sums in SQL, and only each currency's first deals as rows: a million
    open deals are never materialised in Python (that took 30 s for a million deals)."""
    deals = f"SELECT {_DEAL_COLUMNS}, {days} FROM main.{VIEW} WHERE {where}"
    days_name = days.rsplit(" ", 1)[-1]
    totals = con.execute(
        f"SELECT currency, count(*), coalesce(sum(amount), 0), max({days_name}) "
        f"FROM ({deals}) GROUP BY currency ORDER BY currency",
        params,
    ).fetchall()
    # one top-N (a heap) per currency: a window ranking of every deal sorts them all
    top = {
        c: records(
            con,
            f"SELECT * FROM ({deals}) WHERE currency = ? ORDER BY {order} "
            f"LIMIT {MAX_EVIDENCE_ROWS}",
            [*params, c],
        )
        for c, *_ in totals
    }
    return [DealSet(c, n, float(a), int(m), top[c]) for c, n, a, m in totals]


def has_updates(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(f"SELECT count(updated_at) FROM main.{VIEW} WHERE {OPEN}").fetchone()
    return bool(row and row[0])


def pipeline_by_account(con: duckdb.DuckDBPyConnection, keep: int) -> list[dict[str, Any]]:
    """Per currency, the ``keep`` largest open pipelines by account, with the account's
    name when known and ``named_accounts``: how many accounts (not '') have one."""
    rows = con.execute(
        f"WITH p AS (SELECT {CURRENCY} AS currency, coalesce(account_id, '') AS account_id, "
        f"count(*) AS deals, coalesce(sum({AMOUNT}), 0) AS amount FROM main.{VIEW} "
        f"WHERE {OPEN} GROUP BY ALL), "
        "n AS (SELECT currency, count(*) FILTER (WHERE account_id <> '') AS named_accounts "
        "FROM p GROUP BY currency) "
        "SELECT currency, account_id, deals, amount, named_accounts FROM p JOIN n USING "
        # the count as a window (count(*) FILTER ... OVER) took 4 s for 100k accounts
        "(currency) QUALIFY row_number() OVER (PARTITION BY currency "
        f"ORDER BY amount DESC, account_id) <= {int(keep)} ORDER BY currency, amount DESC, "
        "account_id",
    ).fetchall()
    # the names of the few accounts kept (joining the account view first cost seconds)
    names = dict(
        con.execute(
            f"SELECT account_id, min(name) FROM main.{ACCOUNTS} "
            "WHERE list_contains(?::VARCHAR[], account_id) GROUP BY account_id",
            [sorted({r[1] for r in rows if r[1]})],
        ).fetchall()
    )
    return [
        {
            "currency": currency,
            "account_id": account,
            "account_name": names.get(account),
            "deals": deals,
            "amount": plain(amount),
            "named_accounts": named,
        }
        for currency, account, deals, amount, named in rows
    ]
