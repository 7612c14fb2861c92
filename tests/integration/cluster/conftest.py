"""Two Ray nodes on one machine, each with its own disk, plus a fresh Postgres database.

The head (label ``autonomos.io/role=views``) and node B (``autonomos.io/role=ingest``,
joined with ``ray start --address ... --block``) each get their own Ray temp dir, their
own ``TMPDIR`` and their own ``AUTONOMOS_DCL_DIR``: a node that read or wrote another
node's files would be relying on a disk a real cluster does not share. Every port is a
free one (never Redis's 6379); token auth is off (one machine, 127.0.0.1 only). The GCS
declares a node dead after about three missed one-second health checks, so a test that
kills node B waits seconds, not the default half-minute. Both nodes are stopped by
SIGKILLing their own process trees (never ``ray stop``, which stops every cluster of the
machine): the cluster is disposable, and a GCS given SIGTERM can take many seconds.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from autonomos.cli.platform import ray_env
from autonomos.config import Settings
from tests.conftest import APP_ROLE, _pg_admin, _pg_available, _require, free_port
from tests.integration.jobs.conftest import VENV_BIN, _tree

ROLE = "autonomos.io/role"
HEALTH_CHECKS = {
    "RAY_health_check_initial_delay_ms": "1000",
    "RAY_health_check_period_ms": "1000",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "3",
}


@dataclass(frozen=True)
class Node:
    role: str
    pgid: int  # its own process group: the node is stopped (or killed) through it
    dcl_dir: Path  # AUTONOMOS_DCL_DIR in the node's environment
    log: Path


@dataclass(frozen=True)
class TwoNodes:
    address: str
    head: Node
    b: Node
    root: Path
    started_s: float  # wall time to bring both nodes up


def _node_ports() -> list[str]:
    flags = (
        "--node-manager-port",
        "--object-manager-port",
        "--metrics-export-port",
        "--runtime-env-agent-port",
        "--dashboard-agent-grpc-port",
        "--dashboard-agent-listen-port",
    )
    return [x for flag in flags for x in (flag, str(free_port()))]


def _node_env(base: dict[str, str], folder: Path) -> dict[str, str]:
    (folder / "dcl").mkdir(parents=True)
    (folder / "tmp").mkdir()
    return {**base, "AUTONOMOS_DCL_DIR": str(folder / "dcl"), "TMPDIR": str(folder / "tmp")}


@pytest.fixture
def two_nodes() -> Iterator[TwoNodes]:
    ray_bin = VENV_BIN / "ray"
    _require(ray_bin.exists(), "the ray CLI is not installed")
    root = Path(tempfile.mkdtemp(prefix="aomn", dir="/tmp"))  # socket paths must stay short
    base = ray_env(
        Settings(_env_file=None, data_dir=root / "driver"),  # type: ignore[call-arg]
        {**os.environ, "RAY_AUTH_MODE": "disabled", **HEALTH_CHECKS},
    )
    gcs = free_port()
    started = time.monotonic()
    head_env = _node_env(base, root / "a")
    head_log = root / "a" / "ray-start.log"
    with head_log.open("w") as out:
        head = subprocess.Popen(
            [
                str(ray_bin), "start", "--head", "--node-ip-address", "127.0.0.1",
                "--port", str(gcs), "--dashboard-port", str(free_port()),
                "--include-dashboard", "false", "--ray-client-server-port", str(free_port()),
                "--num-cpus", "1", "--disable-usage-stats", "--temp-dir", str(root / "a" / "ray"),
                "--labels", f"{ROLE}=views", *_node_ports(),
            ],
            env=head_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    b: subprocess.Popen[bytes] | None = None
    try:
        if head.wait(timeout=240) != 0:
            pytest.fail(f"ray start --head failed:\n{head_log.read_text()[-3000:]}")
        b_env = _node_env(base, root / "b")
        b_log = root / "b" / "ray-start.log"
        with b_log.open("w") as out:
            b = subprocess.Popen(
                [
                    str(ray_bin), "start", "--address", f"127.0.0.1:{gcs}",
                    "--node-ip-address", "127.0.0.1", "--num-cpus", "1",
                    "--disable-usage-stats", "--temp-dir", str(root / "b" / "ray"),
                    "--labels", f"{ROLE}=ingest", "--block", *_node_ports(),
                ],
                env=b_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        yield TwoNodes(
            address=f"127.0.0.1:{gcs}",
            head=Node("views", head.pid, root / "a" / "dcl", head_log),
            b=Node("ingest", b.pid, root / "b" / "dcl", b_log),
            root=root,
            started_s=round(time.monotonic() - started, 1),
        )
    finally:
        for pgid in ([] if b is None else [b.pid]) + [head.pid]:
            kill_tree(pgid)
        if b is not None:
            b.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def kill_tree(pgid: int) -> None:
    """SIGKILL a node's process group and everything its members spawned; wait for them."""
    pids = _tree(pgid)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_running(p) for p in pids):
        time.sleep(0.1)


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for its parent to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """A database of its own for the test, dropped after it."""
    _require(_pg_available(), "PostgreSQL is not reachable")
    name = f"autonomos_mn_{uuid.uuid4().hex[:8]}"
    asyncio.run(
        _pg_admin(
            [
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') "
                f"THEN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$",
                f"CREATE DATABASE {name}",
            ]
        )
    )
    yield name
    asyncio.run(_pg_admin([f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"]))
