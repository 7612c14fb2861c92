"""The agents on the demo company: the anomalies the demo generator plants are found.

The demo's AWS CUR and Salesforce extracts are synced through the API, mapped through the
registry (the FOCUS mapping the DCL's conformance test pins; the matcher's own choices
are not under test here), materialised into the tenant's views, and both agents run
through the executor on the tenant's DCL service.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from autonomos.agents import registry
from autonomos.agents.run_store import list_findings
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.agents import analysed_demo


async def test_the_planted_anomalies_are_found(
    api: httpx.AsyncClient, tenant_a: Tenant, db: Database, tmp_path: Path
) -> None:
    tid, runs = await analysed_demo(api, tenant_a, db, tmp_path)

    async with db.tenant_session(tid) as s:
        found = {}
        for name in ("finops", "revops"):
            agent = await registry.get_agent_by_name(s, name)
            page = await list_findings(s, agent_id=agent.id, limit=200)
            found[name] = {(f.kind, f.metrics.get("currency"), f.title): f for f in page.items}
    assert len(runs) == 2

    finops = found["finops"].values()
    (spike,) = [
        f for f in finops if f.kind == "cost_anomaly" and f.metrics["start"] == "2025-12-12"
    ]
    assert spike.severity == "high" and spike.metrics["service"] == "Amazon Elastic Compute Cloud"
    assert spike.metrics["end"] == "2025-12-14"
    assert spike.metrics["deviation"] > 3 * 1000  # four p3.8xlarge: ~1,175 a day on top
    (idle,) = [f for f in finops if f.kind == "idle_resource"]
    assert idle.metrics["resource_id"].endswith("endpoint/churn-scoring-v1")
    assert idle.metrics["cost"] == round(14 * 36.36, 2) and idle.severity == "high"
    assert [f.kind for f in finops].count("cost_forecast") == 1

    revops = found["revops"].values()
    slipped = next(
        f for f in revops if f.kind == "slipped_deals" and f.metrics["currency"] == "USD"
    )
    assert slipped.severity == "high"
    assert any(
        r["amount"] == 480_000.0 and r["close_date"] == "2025-11-28"
        for r in slipped.evidence["rows"]
    )
    stale = next(f for f in revops if f.kind == "stale_deals" and f.metrics["currency"] == "USD")
    assert stale.metrics["deals"] == 6 and stale.metrics["max_days_since_update"] >= 45
