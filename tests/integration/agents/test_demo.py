"""The agents on the demo company: the anomalies the demo generator plants are found.

The demo's AWS CUR and Salesforce extracts are synced through the API, mapped through the
registry (the FOCUS mapping the DCL's conformance test pins; the matcher's own choices
are not under test here), materialised into the tenant's views, and both agents run
through the executor on the tenant's DCL service.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from autonomos.agents import registry
from autonomos.agents.executor import execute_run, local_analyzer, queue_after_materialize
from autonomos.agents.run_store import list_findings
from autonomos.agents.runs import RunStatus
from autonomos.dcl import registry as mappings
from autonomos.store.session import Database
from tests.conftest import Tenant
from tests.helpers.agents import STREAMS
from tests.helpers.views import connect, demo_source, sync
from tests.integration.dcl.conftest import tenant_id


async def test_the_planted_anomalies_are_found(
    api: httpx.AsyncClient, tenant_a: Tenant, db: Database, tmp_path: Path
) -> None:
    src = demo_source(tmp_path, *(f"{s}.csv" for s in STREAMS))
    cid = await connect(api, tenant_a, src)
    await sync(api, tenant_a, cid)
    tid = await tenant_id(api, tenant_a)
    async with db.tenant_session(tid) as s:
        for stream, (entity, fields) in STREAMS.items():
            for source, (field, transform) in fields.items():
                await mappings.set_mapping(
                    s,
                    connection_id=uuid.UUID(cid),
                    stream=stream,
                    source_field=source,
                    entity=entity,
                    field=field,
                    transform=transform,
                    decided_by="test",
                )
    dcl = api.runtime.dcl  # type: ignore[attr-defined]
    await dcl.materialize(tid, uuid.UUID(cid))
    runs = await queue_after_materialize(db, tid, {"cloud_cost", "opportunity", "account"})
    analyze = local_analyzer(await dcl.service(tid))
    for run_id in runs:
        assert await execute_run(db, tid, run_id, analyze) is RunStatus.SUCCEEDED

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
