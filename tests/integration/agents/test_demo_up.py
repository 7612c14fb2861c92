"""What `autonomos up` does for the demo tenant, on Ray: its sources ingested, mapped by
the matcher (``map_tenant``: no mapping set by hand), views materialised by the tenant's
DCL actor, which triggers both agents as Ray tasks; ``up`` waits for them. The
``cloud_cost`` view is complete (FOCUS columns FinOps reads are never null) and the
anomalies the demo generator plants are among the findings.

The demo's cost and CRM extracts only (the other sources feed no agent), to keep the
test's share of the shared machine small.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx
import pytest

from autonomos.aam.ingest import ingest_files
from autonomos.cli.platform import _run_demo_agents
from autonomos.config import Settings
from autonomos.demo.tenant import MOCK_SOURCES
from autonomos.jobs.batch_map import map_tenant
from autonomos.store.session import Database
from tests.conftest import register

pytestmark = pytest.mark.ray
AOA = "/api/v1/aoa"
FILES = ("aws_cur_costs.csv", "salesforce_accounts.csv", "salesforce_opportunities.csv")
FOCUS_REQUIRED = (
    "billed_cost",
    "effective_cost",
    "list_cost",
    "billing_currency",
    "charge_category",
    "charge_period_start",
    "service_name",
    "provider_name",
)


async def test_up_leaves_complete_costs_and_the_planted_findings(
    ray_api: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    settings: Settings = ray_api.settings  # type: ignore[attr-defined]
    t = await register(ray_api, "demo-up")
    tid = uuid.UUID((await ray_api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])
    src = tmp_path / "mock_sources"
    src.mkdir()
    for name in FILES:
        shutil.copy(MOCK_SOURCES / name, src / name)
    db = Database(settings.app_database_url)
    try:
        run = await ingest_files(settings, db, tid, uuid.uuid4(), src, "demo-sources")
        assert run.status == "succeeded", run
    finally:
        await db.dispose()
    report = await map_tenant(settings, str(tid))
    assert report.ok, report
    outcomes = {o.name: o for o in await _run_demo_agents(settings, tid)}
    assert {o.last_status for o in outcomes.values()} == {"succeeded"}, outcomes

    nulls = ", ".join(f"count(*) FILTER (WHERE {c} IS NULL) AS {c}" for c in FOCUS_REQUIRED)
    r = await ray_api.post(
        "/api/v1/dcl/query",
        headers=t.headers,
        json={"sql": f"SELECT count(*) AS n, {nulls} FROM cloud_cost"},
    )
    assert r.status_code == 200, r.text
    names = [c["name"] for c in r.json()["columns"]]
    counts = dict(zip(names, r.json()["rows"][0], strict=True))
    assert counts.pop("n") == 5000
    assert counts == dict.fromkeys(FOCUS_REQUIRED, 0)

    findings = (
        await ray_api.get(f"{AOA}/findings", headers=t.headers, params={"limit": 200})
    ).json()["findings"]
    by_kind: dict[str, list[dict]] = {}
    for f in findings:
        by_kind.setdefault(f["kind"], []).append(f)
    (spike,) = [f for f in by_kind["cost_anomaly"] if f["metrics"]["start"] == "2025-12-12"]
    assert spike["severity"] == "high"
    assert spike["metrics"]["service"] == "Amazon Elastic Compute Cloud"
    (idle,) = by_kind["idle_resource"]
    assert idle["metrics"]["resource_id"].endswith("endpoint/churn-scoring-v1")
    slipped = [f for f in by_kind["slipped_deals"] if f["metrics"]["currency"] == "USD"]
    assert any(r["amount"] == 480_000.0 for f in slipped for r in f["evidence"]["rows"])
    stale = [f for f in by_kind["stale_deals"] if f["metrics"]["currency"] == "USD"]
    assert stale and stale[0]["metrics"]["deals"] == 6
    assert outcomes["finops"].high >= 2 and outcomes["revops"].findings >= 2
