"""The driver of the multi-node test, in a process of its own (the pytest process may
already be connected to the session's single-node Ray, and a process joins one cluster).

It plays the API on the head's machine: the real FastAPI app (in-process client) with
the Ray executors, on Postgres and the S3 landing zone. Tenants' supervisors and
connectors prefer node B (``ingest``), their DCL actors the head (``views``), except the
last tenant's DCL, placed on node B. Round 1 syncs every tenant and maps its stream; round
2 lands a new partition for every tenant, and node B's processes are SIGKILLed as soon as
the syncs are committing batches. It then waits for every run to finish and reports what
it measured and what it found (rows, content hashes, placements) as JSON; the test
asserts on it.

Usage: python -m tests.integration.cluster.multinode_driver CONFIG.json REPORT.json
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import ray
from sqlalchemy import select

from autonomos.aam.landing import LandingZone
from autonomos.actors.dcl import dcl_handle
from autonomos.config import Settings, SettingsError
from autonomos.serve_apps.api.app import create_app
from autonomos.serve_apps.api.deployment import check_cluster
from autonomos.store.aam_models import LandedBatch, SyncRun
from autonomos.store.session import Database
from tests.conftest import Tenant, register
from tests.integration.cluster.conftest import kill_tree
from tests.integration.jobs.conftest import _tree

ROLE = "autonomos.io/role"
STREAM = "accounts"
FINISHED = ("succeeded", "failed", "cancelled")
MAPPING = {"id": "account_id", "name": "name", "amount": "annual_revenue"}
VIEW_FACTS = (
    "SELECT count(*) AS n, count(DISTINCT account_id) AS ids, "
    "md5(string_agg(account_id || '|' || name, ',' ORDER BY account_id)) AS hash, "
    "CAST(sum(annual_revenue) AS BIGINT) AS amount FROM account"
)


def rows_of(tenant: int, part: int, count: int) -> list[tuple[str, str, int]]:
    return [
        (f"T{tenant}-P{part}-{i:07d}", f"account {tenant}/{part}/{i}", (i * 37 + part) % 100_000)
        for i in range(count)
    ]


def write_part(folder: Path, part: int, rows: list[tuple[str, str, int]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,name,amount"] + [f"{a},{b},{c}" for a, b, c in rows]
    tmp = folder / f".part-{part}.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    tmp.rename(folder / f"part-{part}.csv")  # a sync never sees a half-written file


def facts(rows: list[tuple[str, str, int]]) -> dict[str, Any]:
    ordered = sorted(rows)
    digest = hashlib.md5(  # a content fingerprint, compared with DuckDB's md5
        ",".join(f"{a}|{b}" for a, b, _ in ordered).encode()
    ).hexdigest()
    return {
        "n": len(rows),
        "ids": len({r[0] for r in rows}),
        "hash": digest,
        "amount": sum(r[2] for r in rows),
    }


def actor_nodes(namespace: str) -> dict[str, str]:
    """name -> node id of every live named actor (from the GCS: the head has no dashboard)."""
    from ray._private import state

    out = {}
    for info in state.actors().values():
        if info.get("Name") and info.get("State") == "ALIVE":
            if info.get("RayNamespace", namespace) == namespace:
                out[info["Name"]] = info["Address"]["NodeID"]
    return out


class Driver:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.settings = Settings(_env_file=None, **cfg["settings"])  # type: ignore[call-arg]
        self.db = Database(self.settings.app_database_url)
        self.report: dict[str, Any] = {"timings_s": {}}
        self.sources = Path(cfg["sources"])

    def timing(self, name: str, since: float) -> None:
        self.report["timings_s"][name] = round(time.monotonic() - since, 2)
        print(f"{name}: {self.report['timings_s'][name]} s", file=sys.stderr, flush=True)

    async def run(self) -> dict[str, Any]:
        started = time.monotonic()
        ray.init(
            address=self.cfg["address"],
            namespace=self.settings.ray_namespace,
            log_to_driver=False,
            logging_level="WARNING",
        )
        nodes = await self.wait_for_nodes(2)
        self.timing("cluster_joined", started)
        by_role = {n["Labels"].get(ROLE): n["NodeID"] for n in nodes}
        self.head, self.node_b = by_role["views"], by_role["ingest"]
        self.check_storage()
        app = create_app(self.settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://api", timeout=120
            ) as api:
                self.api = api
                await self.scenario()
        await self.db.dispose()
        self.timing("total", started)
        return self.report

    async def wait_for_nodes(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 240
        while True:
            alive = [n for n in ray.nodes() if n.get("Alive")]
            if len(alive) >= count:
                return alive
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(alive)} of {count} Ray nodes came up")
            await asyncio.sleep(0.5)

    def check_storage(self) -> None:
        """Two nodes alive: SQLite metadata is refused at start-up, Postgres + S3 is not."""
        sqlite = self.settings.model_copy(
            update={"database_url": None, "migration_database_url": None}
        )
        try:
            check_cluster(sqlite)
            self.report["sqlite_refused"] = None
        except SettingsError as exc:
            self.report["sqlite_refused"] = str(exc)
        check_cluster(self.settings)

    # -- the scenario ---------------------------------------------------------------------

    async def scenario(self) -> None:
        n, rows1, rows2 = self.cfg["tenants"], self.cfg["rows1"], self.cfg["rows2"]
        self.tenants: list[Tenant] = [await register(self.api, f"mn{i}") for i in range(n)]
        self.tids = [await self.tenant_id(t) for t in self.tenants]
        self.report["tenants"] = [str(t) for t in self.tids]
        # The last tenant's DCL actor on node B, created there before anything uses it.
        on_b = self.settings.model_copy(
            update={
                "actor_node_labels": {
                    **self.settings.actor_node_labels,
                    "dcl": {ROLE: "ingest"},
                }
            }
        )
        await dcl_handle(on_b, self.tids[-1]).ping.remote()
        self.rows: list[list[tuple[str, str, int]]] = []
        self.cids: list[str] = []
        for i, t in enumerate(self.tenants):
            first = rows_of(i, 1, rows1)
            write_part(self.sources / f"t{i}" / STREAM, 1, first)
            self.rows.append(first)
            self.cids.append(await self.connect(t, self.sources / f"t{i}"))

        began = time.monotonic()
        runs = [await self.start_sync(t, c) for t, c in zip(self.tenants, self.cids, strict=True)]
        await self.wait_runs(runs, 180)
        self.timing("round1_syncs", began)
        for t, c in zip(self.tenants, self.cids, strict=True):
            await self.map_and_materialize(t, c)
        self.report["round1_views"] = [await self.view_facts(t) for t in self.tenants]
        self.report["round1_expected"] = [facts(r) for r in self.rows]
        self.report["placement_before"] = self.placements()

        for i in range(n):
            more = rows_of(i, 2, rows2)
            write_part(self.sources / f"t{i}" / STREAM, 2, more)
            self.rows[i] = self.rows[i] + more
        began = time.monotonic()
        runs2 = [await self.start_sync(t, c) for t, c in zip(self.tenants, self.cids, strict=True)]
        self.report["at_kill"] = await self.kill_b_mid_sync(runs2)
        killed = self.killed_at
        final = await self.wait_runs(runs2, self.cfg["recovery_timeout_s"])
        self.timing("kill_to_syncs_finished", killed)
        self.timing("round2_syncs", began)
        self.report["round2_runs"] = final
        expected = [facts(r) for r in self.rows]
        self.report["expected"] = expected
        self.report["views"] = await self.views_when_current(expected, killed)
        self.report["landed"] = [await self.landed_facts(tid, c) for tid, c in self.tids_cids()]
        self.report["placement_after"] = self.placements()
        self.report["dcl"] = [await self.dcl_ping(tid) for tid in self.tids]
        self.report["nodes_alive"] = sorted(
            n["Labels"].get(ROLE) for n in ray.nodes() if n.get("Alive")
        )

    def tids_cids(self) -> list[tuple[uuid.UUID, str]]:
        return list(zip(self.tids, self.cids, strict=True))

    async def kill_b_mid_sync(self, runs: list[tuple[Tenant, str]]) -> dict[str, Any]:
        """SIGKILL every process of node B once the syncs are committing batches."""
        deadline = time.monotonic() + 120
        while True:
            states = [await self.run_state(t, r) for t, r in runs]
            if any(s["status"] in FINISHED for s in states):
                break  # too late to be mid-sync for all: kill now, the test will say so
            if any(s["records_written"] > 0 for s in states):
                break
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        pids = _tree(self.cfg["node_b_pgid"])
        self.killed_at = time.monotonic()
        kill_tree(self.cfg["node_b_pgid"])
        return {"runs": states, "processes_killed": len(pids)}

    # -- API calls ------------------------------------------------------------------------

    async def tenant_id(self, t: Tenant) -> uuid.UUID:
        r = await self.api.get("/api/v1/auth/me", headers=t.headers)
        return uuid.UUID(r.json()["tenant_id"])

    async def connect(self, t: Tenant, path: Path) -> str:
        r = await self.api.post(
            "/api/v1/aam/connections",
            headers=t.headers,
            json={
                "name": f"accounts-{uuid.uuid4().hex[:6]}",
                "source_type": "files",
                "config": {
                    "path": str(path),
                    "primary_key": {STREAM: ["id"]},
                    "batch_size": self.cfg["batch_size"],
                },
            },
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def start_sync(self, t: Tenant, cid: str) -> tuple[Tenant, str]:
        r = await self.api.post(f"/api/v1/aam/connections/{cid}/sync", headers=t.headers)
        assert r.status_code == 202, r.text
        return t, str(r.json()["run_id"])

    async def run_state(self, t: Tenant, run_id: str) -> dict[str, Any]:
        r = await self.api.get(f"/api/v1/aam/runs/{run_id}", headers=t.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        return {
            "status": body["status"],
            "records_written": body.get("records_written") or 0,
            "error": body.get("error"),
        }

    async def wait_runs(self, runs: list[tuple[Tenant, str]], limit_s: float) -> list[Any]:
        deadline = time.monotonic() + limit_s
        while True:
            states = [await self.run_state(t, r) for t, r in runs]
            if all(s["status"] in FINISHED for s in states) or time.monotonic() > deadline:
                return states
            await asyncio.sleep(0.25)

    async def map_and_materialize(self, t: Tenant, cid: str) -> None:
        for source, field in MAPPING.items():
            r = await self.api.put(
                "/api/v1/dcl/mappings",
                headers=t.headers,
                json={
                    "connection_id": cid,
                    "stream": STREAM,
                    "source_field": source,
                    "entity": "account",
                    "field": field,
                    "materialize": False,
                },
            )
            assert r.status_code == 200, r.text
        r = await self.api.post(
            "/api/v1/dcl/materialize", headers=t.headers, json={"connection_id": cid}
        )
        assert r.status_code == 200, r.text

    async def view_facts(self, t: Tenant) -> dict[str, Any] | str:
        r = await self.api.post("/api/v1/dcl/query", headers=t.headers, json={"sql": VIEW_FACTS})
        if r.status_code != 200:
            return f"{r.status_code}: {r.text[:300]}"
        body = r.json()
        names = [c["name"] if isinstance(c, dict) else c for c in body["columns"]]
        return dict(zip(names, body["rows"][0], strict=True))

    async def views_when_current(self, expected: list[Any], since: float) -> list[Any]:
        """The views once the after-sync refreshes have landed (or what they show at the
        deadline); also times how long after the kill every tenant's views were current."""
        deadline = time.monotonic() + 90
        current: dict[int, float] = {}
        while True:
            got = [await self.view_facts(t) for t in self.tenants]
            for i, (seen, wanted) in enumerate(zip(got, expected, strict=True)):
                if seen == wanted:
                    current.setdefault(i, round(time.monotonic() - since, 2))
            if got == expected or time.monotonic() > deadline:
                self.timing("kill_to_views_current", since)
                self.report["kill_to_views_current_per_tenant_s"] = current
                return got
            await asyncio.sleep(0.25)

    # -- what is really stored --------------------------------------------------------------

    async def landed_facts(self, tid: uuid.UUID, cid: str) -> dict[str, Any]:
        """Every row of the stream's committed landed batches, read back from S3."""
        async with self.db.tenant_session(tid) as s:
            paths = list(
                await s.scalars(
                    select(LandedBatch.path).where(
                        LandedBatch.connection_id == uuid.UUID(cid), LandedBatch.stream == STREAM
                    )
                )
            )
            runs = list(
                await s.scalars(select(SyncRun).where(SyncRun.connection_id == uuid.UUID(cid)))
            )
        table = LandingZone.from_settings(self.settings).read(paths)
        rows = list(
            zip(
                table.column("id").to_pylist(),
                table.column("name").to_pylist(),
                table.column("amount").to_pylist(),
                strict=True,
            )
        )
        return {
            **facts(rows),
            "objects": len(paths),
            "all_in_s3": all(p.startswith("s3://") for p in paths),
            "runs": sorted((r.status, r.records_written) for r in runs),
        }

    def placements(self) -> dict[str, str]:
        where = {self.head: "views", self.node_b: "ingest"}
        return {
            name: where.get(node, node)
            for name, node in actor_nodes(self.settings.ray_namespace).items()
            # tenant actors are named kind:tenant[:...]; cluster singletons (the sync
            # admission, the agent scheduler) have no tenant
            if ":" in name and name.split(":", 2)[1] in {str(t) for t in self.tids}
        }

    async def dcl_ping(self, tid: uuid.UUID) -> dict[str, Any]:
        ping: dict[str, Any] = await dcl_handle(self.settings, tid).ping.remote()
        return {
            "node": {self.head: "views", self.node_b: "ingest"}.get(ping["node_id"]),
            "path": ping["path"],
            "caught_up": ping["caught_up"],
        }


def main() -> None:
    cfg = json.loads(Path(sys.argv[1]).read_text())
    driver = Driver(cfg)
    try:
        asyncio.run(driver.run())
    finally:  # what it saw so far, even when it failed
        Path(sys.argv[2]).write_text(json.dumps(driver.report, indent=2, default=str))


if __name__ == "__main__":
    main()
