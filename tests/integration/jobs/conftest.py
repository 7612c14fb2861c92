"""A Ray head of our own with the job server, on free ports, stopped by its own pids.

The session-wide ``ray_cluster`` fixture has no dashboard, and other Ray clusters may run
on this machine: this head gets fresh ports for every service and a short temp dir, is
started in a new session so all its daemons share one process group, and is stopped by
signalling that group and the processes it spawned (never ``ray stop``, which would stop
every cluster of the machine).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from autonomos.cli.platform import ray_env
from autonomos.config import Settings
from tests.conftest import _require, free_port

VENV_BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class RayHead:
    address: str  # GCS, for ray.init
    dashboard: str  # job server, http://127.0.0.1:<port>
    env: dict[str, str]  # for `ray job submit` and the like


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, pgid) of every process we can see."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(entry)] = (int(fields[1]), int(fields[2]))
    return out


def _tree(pgid: int) -> set[int]:
    """The head's process group and everything its members spawned (workers, agents)."""
    procs = _processes()
    found = {pid for pid, (_, group) in procs.items() if group == pgid}
    grew = True
    while grew:
        grew = False
        for pid, (parent, _) in procs.items():
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    found.discard(os.getpid())
    return found


def path_without_venv() -> str:
    """This process's PATH less the project's venv: a fresh shell's."""
    venv = VENV_BIN.resolve()
    parts = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(p for p in parts if p and Path(p).resolve() != venv)


def stop_head(pgid: int) -> None:
    pids = _tree(pgid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
            time.sleep(0.2)
        pids = {p for p in pids if Path(f"/proc/{p}").exists()}
        if not pids:
            return


def _start_command(ray_bin: Path, temp: Path, gcs: int, dash: int) -> list[str]:
    ports = {
        "--port": gcs,
        "--dashboard-port": dash,
        "--ray-client-server-port": free_port(),
        "--dashboard-agent-listen-port": free_port(),
        "--dashboard-agent-grpc-port": free_port(),
        "--metrics-export-port": free_port(),
        "--runtime-env-agent-port": free_port(),
        "--node-manager-port": free_port(),
        "--object-manager-port": free_port(),
    }
    return [
        str(ray_bin),
        "start",
        "--head",
        "--node-ip-address",
        "127.0.0.1",
        "--dashboard-host",
        "127.0.0.1",
        "--include-dashboard",
        "true",
        "--num-cpus",
        "2",
        "--disable-usage-stats",
        "--temp-dir",
        str(temp),
        *[x for flag, port in ports.items() for x in (flag, str(port))],
    ]


@pytest.fixture(scope="session")
def ray_head() -> Iterator[RayHead]:
    ray_bin = VENV_BIN / "ray"
    _require(ray_bin.exists(), "the ray CLI is not installed")
    temp = Path(tempfile.mkdtemp(prefix="aoj", dir="/tmp"))  # socket paths must stay short
    # The environment `autonomos up` starts its head in, from a shell whose PATH does not
    # have the project's venv (as after the quick start): jobs then run `python` from the
    # head's PATH, which `up` points at the project's interpreter.
    env = ray_env(
        Settings(_env_file=None, data_dir=temp),  # type: ignore[call-arg]
        {**os.environ, "RAY_AUTH_MODE": "disabled", "PATH": path_without_venv()},
    )
    pgid = 0
    try:
        for attempt in range(3):
            gcs, dash = free_port(), free_port()
            proc = subprocess.Popen(
                _start_command(ray_bin, temp, gcs, dash),
                env=env,
                start_new_session=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            pgid = proc.pid
            output, _ = proc.communicate(timeout=180)
            if proc.returncode == 0:
                break
            # a port free when drawn can be taken before Ray binds it (other clusters on
            # the machine): that, and only that, is worth another try with fresh ports
            clash = b"already in use" in output or b"Failed to start the grpc server" in output
            if attempt == 2 or not clash:
                pytest.fail(f"ray start failed:\n{output.decode()[-3000:]}")
            stop_head(pgid)
        url = f"http://127.0.0.1:{dash}"
        deadline = time.monotonic() + 90
        while True:  # the job server comes up a little after `ray start` returns
            try:
                if httpx.get(f"{url}/api/version", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the job server at {url} did not come up")
            time.sleep(0.5)
        yield RayHead(f"127.0.0.1:{gcs}", url, env)
    finally:
        stop_head(pgid)
        shutil.rmtree(temp, ignore_errors=True)
