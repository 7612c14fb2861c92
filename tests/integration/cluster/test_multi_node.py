"""Multi-node on one machine: a head and a second Ray node with their own disks, the
metadata on Postgres (a fresh database) and the landing zone on S3 (moto's server).

Tenants' supervisors and connectors run on node B, their views on the head (one tenant's
DCL on node B too). Syncs on node B land Parquet that the DCL actors on the head turn into
views. Then node B's processes are SIGKILLed in the middle of a round of syncs: the
affected actors come back on the head, every sync finishes, and nothing is lost or
duplicated: rows, distinct keys and a content hash of the landed data (read back from S3)
and of the views match the sources; the DCL that lived on node B is rebuilt on the head
from the landing zone and the mapping registry (node B's DuckDB file is not reachable
from there). The measured timings are printed (``-s``) and asserted within bounds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.conftest import pg_urls
from tests.integration.cluster.conftest import ROLE, TwoNodes
from tests.integration.conftest import S3Server
from tests.integration.jobs.conftest import REPO

pytestmark = pytest.mark.ray

TENANTS = 2  # the first with its views on the head, the second with them on node B
ROWS_ROUND_1 = 2_000
ROWS_ROUND_2 = 12_000
BATCH = 300  # rows per committed batch: round 2 is 40 commits per tenant
DRIVER_TIMEOUT_S = 420


@pytest.mark.timeout(DRIVER_TIMEOUT_S + 180)  # + the two nodes' start and stop
def test_syncs_survive_losing_a_node(
    two_nodes: TwoNodes, fresh_pg: str, s3_server: S3Server, tmp_path: Path
) -> None:
    owner, app = pg_urls(fresh_pg)
    bucket = s3_server.new_bucket()
    sources = tmp_path / "sources"
    driver_dir = tmp_path / "driver"
    settings = {
        "data_dir": str(driver_dir),
        "database_url": app,
        "migration_database_url": owner,
        **s3_server.landing_settings(bucket),
        "sync_executor": "ray",
        "files_roots": [str(sources)],
        "jwt_secret": "multi-node-test-secret-" + "x" * 32,
        "secrets_keys": Fernet.generate_key().decode(),  # every node must decrypt alike
        "argon2_time_cost": 2,
        "argon2_memory_kib": 19_456,
        "log_level": "WARNING",
        "ray_namespace": "autonomos-multinode",
        "actor_node_labels": {
            kind: {ROLE: "ingest"} for kind in ("supervisor", "connector", "drift", "repair")
        }
        | {"dcl": {ROLE: "views"}},
    }
    config = {
        "address": two_nodes.address,
        "node_b_pgid": two_nodes.b.pgid,
        "settings": settings,
        "sources": str(sources),
        "tenants": TENANTS,
        "rows1": ROWS_ROUND_1,
        "rows2": ROWS_ROUND_2,
        "batch_size": BATCH,
        "recovery_timeout_s": 150,
    }
    config_file, report_file = tmp_path / "config.json", tmp_path / "report.json"
    config_file.write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.cluster.multinode_driver",
         str(config_file), str(report_file)],
        cwd=REPO, capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S,
        env={"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path),
             "RAY_AUTH_MODE": "disabled", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    report = json.loads(report_file.read_text())
    measured = {"cluster_start_s": two_nodes.started_s, **report["timings_s"]}
    print(json.dumps(measured | {"at_kill": report["at_kill"]["runs"]}, indent=1))
    print(json.dumps(report["kill_to_views_current_per_tenant_s"]))
    print(json.dumps({"dcl": report["dcl"]}, indent=1))

    # With two nodes alive, SQLite metadata is refused at start-up, saying what to set.
    assert "this Ray cluster has 2 nodes" in report["sqlite_refused"]
    assert "AUTONOMOS_DATABASE_URL" in report["sqlite_refused"]

    # Before the kill: connectors and supervisors on node B, views on the head (and the
    # last tenant's DCL on node B); every view matched its source.
    before = report["placement_before"]
    assert {name.split(":")[0] for name in before} >= {"supervisor", "connector", "dcl"}
    last = report["tenants"][-1]
    for name, node in before.items():
        kind, tenant = name.split(":")[:2]
        assert node == ("views" if kind == "dcl" and tenant != last else "ingest"), before
    assert report["round1_views"] == report["round1_expected"]

    # The kill hit syncs in flight: none had finished, some had committed batches.
    at_kill = report["at_kill"]
    assert at_kill["processes_killed"] >= 3, at_kill
    assert all(r["status"] not in ("succeeded", "failed") for r in at_kill["runs"]), at_kill
    assert any(r["records_written"] > 0 for r in at_kill["runs"]), at_kill
    assert any(r["records_written"] < ROWS_ROUND_2 for r in at_kill["runs"]), at_kill

    # Every sync finished, each writing its rows exactly once...
    assert [(r["status"], r["records_written"]) for r in report["round2_runs"]] == [
        ("succeeded", ROWS_ROUND_2)
    ] * TENANTS, report["round2_runs"]
    # ...what landed on S3 is the sources, no row lost or twice...
    for landed, expected in zip(report["landed"], report["expected"], strict=True):
        assert landed["all_in_s3"]
        assert {k: landed[k] for k in expected} == expected
        assert landed["runs"] == [["succeeded", ROWS_ROUND_1], ["succeeded", ROWS_ROUND_2]]
    # ...and so are the views served from the head.
    assert report["views"] == report["expected"]

    # Afterwards everything runs on the head; node B is gone.
    assert report["nodes_alive"] == ["views"]
    assert set(report["placement_after"].values()) == {"views"}, report["placement_after"]
    # The DCL that lived on node B was rebuilt on the head from S3 + the registry, in the
    # head's own folder; the others kept their files. Nothing used the driver's data dir.
    *stayed, moved = report["dcl"]
    assert moved["node"] == "views" and moved["caught_up"]["fresh"] is True, moved
    assert Path(moved["path"]).parent == two_nodes.head.dcl_dir
    assert (two_nodes.b.dcl_dir / Path(moved["path"]).name).exists()  # its old copy, on B
    for dcl in stayed:
        assert dcl["node"] == "views" and Path(dcl["path"]).parent == two_nodes.head.dcl_dir
    assert not (driver_dir / "dcl").exists()

    # Bounded in time (generous: the CI machine is shared).
    assert report["timings_s"]["kill_to_syncs_finished"] < 120, report["timings_s"]
