#!/usr/bin/env python
"""FinOps agent over 10 million ``cloud_cost`` rows against a bare DuckDB aggregate.

Generates ``--rows`` FOCUS cost lines (default 10 million: ``--days`` days of daily usage
lines of ``rows / days`` resources over 40 services, 25 sub-accounts and 6 regions, plus a
planted spike and idle resources), lands them as Parquet and materialises them into the
``cloud_cost`` view through the real path (``ViewStore.materialize``; timed, not the
goal). Then, on read cursors of the same DuckDB instance, same threads and memory limit:

- **baseline**: a bare aggregate of the same rows, daily cost per service
  (``SELECT service_name, day, sum(effective_cost) ... GROUP BY ALL``);
- **FinOps**: a full run of the agent (``finops.analyze``: breakdowns, anomalies,
  forecast, drivers, idle resources, findings with evidence);
- for reference, the bare aggregate behind the agent's breakdowns alone: daily cost by
  provider, service, sub-account, region, currency and charge category (the floor of any
  run that reports spend along those dimensions).

The data spans the agent's whole read window (``--days`` 118 = 90 days of lookback plus
the anomaly baseline), so both read every row. Each is run ``--repeat`` times; the
medians are compared. Goal: the full run within 3x of the bare aggregate.

    .venv/bin/python benchmarks/agents.py [--rows 10000000 --days 118 --threads 2]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import duckdb  # noqa: E402

from autonomos.agents.finops import analyze  # noqa: E402
from autonomos.agents.revops import analyze as analyze_revops  # noqa: E402
from autonomos.dcl.slices import FieldMapping, LandedFile, SliceSpec  # noqa: E402
from autonomos.dcl.views import ViewStore  # noqa: E402

GOAL_RATIO = 3.0
START = date(2025, 9, 1)
FIELDS = (
    "cost_line_id provider_name billing_account_id sub_account_id service_name "
    "service_category resource_id region_id charge_category charge_period_start "
    "charge_period_end billing_period_start billed_cost effective_cost list_cost "
    "billing_currency consumed_quantity consumed_unit sku_id"
).split()
BASELINE = (
    "SELECT service_name, CAST(timezone('UTC', charge_period_start) AS DATE) AS day, "
    "sum(effective_cost) AS cost FROM cloud_cost GROUP BY ALL"
)
DIMENSIONS = (
    "SELECT CAST(timezone('UTC', charge_period_start) AS DATE) AS day, billing_currency, "
    "provider_name, service_name, sub_account_id, region_id, charge_category, "
    "sum(effective_cost) AS cost FROM cloud_cost GROUP BY ALL"
)


def generate(directory: Path, rows: int, days: int, files: int) -> list[Path]:
    """Daily usage lines: resource r costs a stable pseudo-random amount per day; service
    7 spikes 5x for 3 days two weeks before the end; one resource in 500 is idle (billed,
    zero quantity). Written in day order, like a provider's export."""
    directory.mkdir(parents=True, exist_ok=True)
    resources = max(rows // days, 1)
    con = duckdb.connect()
    paths = []
    per = -(-days // files)
    spike = (days - 15, days - 13)
    for f in range(files):
        lo, hi = f * per * resources, min((f + 1) * per * resources, rows)
        if lo >= hi:
            break
        path = directory / f"cur-{f:03d}.parquet"
        con.execute(
            f"""COPY (
              SELECT 'line-' || i AS cost_line_id,
                ['AWS', 'Google Cloud', 'Microsoft Azure'][1 + r % 3] AS provider_name,
                'payer-1' AS billing_account_id, 'acct-' || (r % 25) AS sub_account_id,
                'service-' || (r % 40) AS service_name, 'Compute' AS service_category,
                'res-' || r AS resource_id, ['us-east-1','us-west-2','eu-west-1','eu-central-1',
                'ap-south-1','sa-east-1'][1 + r % 6] AS region_id, 'Usage' AS charge_category,
                TIMESTAMPTZ '{START.isoformat()} 00:00:00+00' + to_days(CAST(d AS INTEGER))
                  AS charge_period_start,
                TIMESTAMPTZ '{START.isoformat()} 00:00:00+00' + to_days(CAST(d AS INTEGER) + 1)
                  AS charge_period_end,
                date_trunc('month', TIMESTAMPTZ '{START.isoformat()} 00:00:00+00'
                  + to_days(CAST(d AS INTEGER))) AS billing_period_start,
                CAST(base * (CASE WHEN r % 40 = 7 AND d BETWEEN {spike[0]} AND {spike[1]}
                  THEN 5 ELSE 1 END) AS DECIMAL(18, 6)) AS billed_cost,
                billed_cost AS effective_cost, CAST(base * 1.2 AS DECIMAL(18, 6)) AS list_cost,
                'USD' AS billing_currency,
                CASE WHEN r % 500 = 3 THEN 0 ELSE 24 END AS consumed_quantity,
                'Hrs' AS consumed_unit, 'sku-' || (r % 97) AS sku_id
              FROM (SELECT i, i // {resources} AS d, i % {resources} AS r,
                           0.5 + (hash(i % {resources}) % 1000) / 100.0
                             * (0.9 + (hash(i) % 200) / 1000.0) AS base
                    FROM range({lo}, {hi}) AS t(i))
            ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)"""
        )
        paths.append(path)
    con.close()
    return paths


def timed(fn: Callable[[], Any]) -> tuple[float, Any, float]:
    """Wall seconds, the result, and CPU seconds of this process (all its threads: on a
    shared box the CPU time moves less with other jobs' load than the wall time)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - started, result, time.process_time() - cpu


DEALS_BASELINE = "SELECT stage, currency, sum(amount), count(*) FROM opportunity GROUP BY ALL"
DEAL_FIELDS = (
    "opportunity_id account_id name amount currency stage probability close_date owner_id "
    "created_at updated_at"
).split()


def revops(root: Path, deals: int, args: argparse.Namespace) -> None:
    """RevOps over ``deals`` opportunities (and deals / 20 accounts) against a bare
    aggregate of the same deals (pipeline by stage and currency), same run, interleaved.
    No goal in the issue: measured because a run had been 30 s at a million deals."""
    landing = root / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    accounts = max(deals // 20, 1)
    con.execute(
        f"""COPY (SELECT 'opp-' || i AS opportunity_id,
          'acc-' || (hash(i) % {accounts}) AS account_id, 'Deal ' || i AS name,
          CAST(1000 + hash(i * 7) % 100000 AS DECIMAL(18, 2)) AS amount,
          ['USD', 'EUR'][1 + i % 2] AS currency,
          ['Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Closed Won',
           'Closed Lost'][CAST(1 + hash(i * 3) % 6 AS BIGINT)] AS stage,
          CAST(hash(i * 5) % 100 AS DECIMAL(5, 2)) AS probability,
          DATE '2025-01-01' + CAST(hash(i * 11) % 700 AS INTEGER) AS close_date,
          'u-' || (i % 50) AS owner_id,
          TIMESTAMPTZ '2024-06-01 00:00:00+00' + to_days(CAST(hash(i * 13) % 400 AS INTEGER))
            AS created_at,
          TIMESTAMPTZ '2025-06-01 00:00:00+00' + to_days(CAST(hash(i * 17) % 300 AS INTEGER))
            AS updated_at
        FROM range({deals}) AS t(i)) TO '{landing}/opp.parquet' (FORMAT parquet)"""
    )
    con.execute(
        f"COPY (SELECT 'acc-' || i AS account_id, 'Account ' || i AS name "
        f"FROM range({accounts}) AS t(i)) TO '{landing}/acc.parquet' (FORMAT parquet)"
    )
    con.close()
    store = ViewStore(
        root / "views.duckdb",
        threads=args.threads,
        memory_limit=args.memory_limit,
        landing_dirs=(landing,),
    )
    landed = datetime.now(UTC)
    for entity, name, fields in (
        ("opportunity", "opp", DEAL_FIELDS),
        ("account", "acc", ["account_id", "name"]),
    ):
        spec = SliceSpec(
            str(uuid.uuid4()), entity, entity, tuple(FieldMapping(f, f) for f in fields)
        )
        store.materialize(spec, [LandedFile(name, str(landing / f"{name}.parquet"), landed)])

    def on_cursor(fn: Callable[[duckdb.DuckDBPyConnection], Any]) -> Callable[[], Any]:
        def run() -> Any:
            con = store.cursor()
            try:
                return fn(con)
            finally:
                con.close()

        return run

    base, runs = [], []
    for _ in range(args.repeat):
        base.append(timed(on_cursor(lambda c: len(c.execute(DEALS_BASELINE).fetchall()))))
        runs.append(timed(on_cursor(analyze_revops)))
    store.close()
    base_s, run_s = (statistics.median(t for t, _, _ in xs) for xs in (base, runs))
    base_cpu, run_cpu = (statistics.median(c for _, _, c in xs) for xs in (base, runs))
    print()
    print(f"RevOps over {deals:,} deals and {accounts:,} accounts:")
    print(f"bare aggregate, pipeline by stage and currency: {base_s * 1000:7.0f} ms")
    print(f"RevOps full run:                                {run_s * 1000:7.0f} ms")
    print(
        f"ratio {run_s / base_s:.2f}x (CPU {run_cpu / base_cpu:.2f}x); "
        f"findings {runs[0][1].counts()}; load average {os.getloadavg()[0]:.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=118)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--revops-deals",
        type=int,
        default=0,
        help="also time the RevOps agent over this many generated deals (0: not)",
    )
    args = parser.parse_args()
    if args.revops_deals:
        with tempfile.TemporaryDirectory(prefix="autonomos-revops-bench-") as tmp:
            revops(Path(tmp), args.revops_deals, args)

    with tempfile.TemporaryDirectory(prefix="autonomos-agents-bench-") as tmp:
        root = Path(tmp)
        landing = root / "landing"
        started = time.perf_counter()
        paths = generate(landing, args.rows, args.days, args.files)
        print(f"generated {args.rows:,} cost lines in {time.perf_counter() - started:.1f} s")
        store = ViewStore(
            root / "views.duckdb",
            threads=args.threads,
            memory_limit=args.memory_limit,
            landing_dirs=(landing,),
        )
        spec = SliceSpec(
            str(uuid.uuid4()), "cur", "cloud_cost", tuple(FieldMapping(f, f) for f in FIELDS)
        )
        landed = datetime.now(UTC)
        files = [
            LandedFile(f"b{i}", str(p), landed + timedelta(microseconds=i))
            for i, p in enumerate(paths)
        ]
        started = time.perf_counter()
        result = store.materialize(spec, files)
        took = time.perf_counter() - started
        print(f"materialised {result.rows:,} rows into cloud_cost in {took:.1f} s")

        def on_cursor(fn: Callable[[duckdb.DuckDBPyConnection], Any]) -> Callable[[], Any]:
            def run() -> Any:
                con = store.cursor()
                try:
                    return fn(con)
                finally:
                    con.close()

            return run

        # interleaved, so a load change on a shared machine hits all three alike
        base, dims, runs = [], [], []
        for _ in range(args.repeat):
            base.append(timed(on_cursor(lambda c: len(c.execute(BASELINE).fetchall()))))
            dims.append(timed(on_cursor(lambda c: len(c.execute(DIMENSIONS).fetchall()))))
            runs.append(timed(on_cursor(analyze)))
        store.close()

    base_s, groups = statistics.median(t for t, _, _ in base), base[0][1]
    dims_s, dim_groups = statistics.median(t for t, _, _ in dims), dims[0][1]
    run_s, report = statistics.median(t for t, _, _ in runs), runs[0][1]
    base_cpu = statistics.median(c for _, _, c in base)
    run_cpu = statistics.median(c for _, _, c in runs)
    ratio = run_s / base_s
    counts = report.counts()
    print()
    print(f"bare aggregate, daily cost per service: {base_s * 1000:7.0f} ms ({groups:,} groups)")
    print(
        f"bare aggregate, by 6 dimensions:        {dims_s * 1000:7.0f} ms ({dim_groups:,} groups)"
    )
    print(f"FinOps full run:                        {run_s * 1000:7.0f} ms")
    print(f"  findings by severity: {counts}")
    verdict = "OK" if ratio <= GOAL_RATIO else "MISSED"
    print(f"ratio to daily cost per service: {ratio:.2f}x  (goal <= {GOAL_RATIO:.0f}x)  {verdict}")
    print(f"ratio to the 6-dimension aggregate: {run_s / dims_s:.2f}x")
    print(
        f"CPU time (all threads), full run {run_cpu * 1000:.0f} ms vs bare aggregate "
        f"{base_cpu * 1000:.0f} ms: {run_cpu / base_cpu:.2f}x; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for f in report.findings[:6]:
        print(f"  [{f.severity.value}] {f.title}")
    return 0 if ratio <= GOAL_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
