#!/usr/bin/env python
"""The request path's cost: a trivial FastAPI route, /auth/me on uvicorn, /auth/me on Serve.

One run measures a bounded wrk load (default 64 connections for 15 s, 127.0.0.1 only)
three times, one server (a subprocess) after another:

1. the ceiling: a plain FastAPI app with one trivial ``async`` route on the same path,
   under uvicorn (1 worker): what this box and this load generator allow;
2. ``GET /api/v1/auth/me`` of the project's app under uvicorn, with a bearer token
   obtained by registering and logging in through the app itself;
3. the same through Ray Serve (a subprocess that starts a local Ray instance).

It prints requests/s, p50/p90/p99 and timeouts/errors per row, then the goals: /auth/me on
uvicorn >= 0.5 of the ceiling, Serve >= 0.8 of uvicorn, Serve p99 < 100 ms. Only the
ratios within one run mean much on a shared box (absolute figures drift by 2x between
runs); the exit status is 0 only when every goal is met.

    .venv/bin/python benchmarks/api_latency.py [--duration 15 --connections 64]

Needs ``wrk`` (``scripts/install-bench-tools.sh`` installs it).

The Serve side uses ``autonomos.serve_apps.api.deployment``: ``serve_env(settings)``
gives the RAY_SERVE_* variables, which are put in the environment of the subprocess
*before* it imports Ray and calls ``ray.init`` so that the controller, the proxy/HAProxy
and the replicas inherit them; ``build_ingress(settings)`` gives the application.
``--serve-env KEY=VALUE`` adds or overrides variables (experiments), and
``--app standin`` swaps in a tiny FastAPI app defined here (Serve overhead alone).
Ray is never started on 6379 (Redis's port); ``ray.init(num_cpus=2)`` starts a private
local instance that is shut down at the end.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

ME_PATH = "/api/v1/auth/me"
REGISTER_PATH = "/api/v1/auth/register"
LOGIN_PATH = "/api/v1/auth/login"
GOAL_OF_CEILING = 0.5  # /auth/me on uvicorn, as a share of the trivial route's req/s
GOAL_RATIO = 0.8  # Serve / uvicorn req/s on /auth/me
EXTRA_HEADER = [""]  # --extra-header, sent on every loaded request (experiments)
GOAL_P99_MS = 100.0

LUA_SCRIPT = r"""
-- Adds the bearer token and prints a machine-readable summary (latencies in us).
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Accept"] = "application/json"
local extra = os.getenv("BENCH_EXTRA_HEADER")
if extra and extra ~= "" then
  local name, value = extra:match("^([^:]+):%s*(.*)$")
  wrk.headers[name] = value
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\":%d,\"duration_us\":%d,\"p50_us\":%d,\"p90_us\":%d," ..
    "\"p99_us\":%d,\"max_us\":%d,\"mean_us\":%.1f,\"connect\":%d,\"read\":%d," ..
    "\"write\":%d,\"status\":%d,\"timeout\":%d}\n",
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


# --------------------------------------------------------------------------------------
# Stand-in app (used with --app standin): one bearer-checked route, like the real one.
# --------------------------------------------------------------------------------------


def create_standin_app(settings: Any = None):  # same shape as create_app
    import hashlib
    import hmac

    from fastapi import Depends, FastAPI, HTTPException, status
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
    from pydantic import BaseModel

    secret = os.environ.get("AUTONOMOS_JWT_SECRET", "standin-secret-" + "x" * 32).encode()
    users: dict[str, dict[str, str]] = {}
    bearer = HTTPBearer(auto_error=False)

    def sign(sub: str) -> str:
        mac = hmac.new(secret, sub.encode(), hashlib.sha256).hexdigest()
        return f"{sub}.{mac}"

    class Register(BaseModel):
        tenant_name: str
        email: str
        password: str
        full_name: str = ""

    app = FastAPI(title="standin")

    @app.post(REGISTER_PATH, status_code=201)
    async def register(body: Register) -> dict[str, str]:
        sub = uuid.uuid5(uuid.NAMESPACE_URL, body.email).hex
        users[sub] = {"id": sub, "email": body.email, "tenant": body.tenant_name}
        return {"access_token": sign(sub), "refresh_token": sign("r" + sub), "token_type": "bearer"}

    async def current_user(
        cred: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> dict[str, str]:
        if cred is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing token")
        sub = cred.credentials.rpartition(".")[0]
        if not hmac.compare_digest(sign(sub), cred.credentials):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bad token")
        # Stateless like a JWT: a replica that did not see the registration still
        # answers (the stand-in keeps no shared store).
        return users.get(sub, {"id": sub, "email": "", "tenant": ""})

    @app.get(ME_PATH)
    async def me(user: dict[str, str] = Depends(current_user)) -> dict[str, str]:
        return user

    return app


def standin_build_ingress(settings: Any, replicas: int, max_ongoing: int, access_log: bool):
    from ray import serve

    @serve.deployment(
        num_replicas=replicas,
        max_ongoing_requests=max_ongoing,
        ray_actor_options={"num_cpus": 0},
        logging_config={"enable_access_log": access_log},
    )
    @serve.ingress(create_standin_app(settings))
    class StandinAPI:
        pass

    return StandinAPI.bind()


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(
    method: str, url: str, body: dict | None = None, token: str | None = None, timeout: float = 30.0
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_http(url: str, deadline_s: float, proc: subprocess.Popen | None = None) -> None:
    """Waits until ``url`` answers with any HTTP status (401 on /me is fine)."""
    end = time.monotonic() + deadline_s
    last: Exception | None = None
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server process exited with {proc.returncode}")
        try:
            http("GET", url, timeout=5)
            return
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            last = e
            time.sleep(0.3)
    raise TimeoutError(f"{url} not answering after {deadline_s:.0f}s: {last}")


def register_token(base: str) -> str:
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    password = "Bench-" + uuid.uuid4().hex
    code, body = http(
        "POST",
        base + REGISTER_PATH,
        {
            "tenant_name": f"bench-{uuid.uuid4().hex[:8]}",
            "email": email,
            "password": password,
            "full_name": "Bench User",
        },
    )
    if code not in (201, 202):
        raise RuntimeError(f"register returned {code}: {body[:300]!r}")
    if code == 202:  # the real app never hands out tokens on register: log in
        code, body = http("POST", base + LOGIN_PATH, {"email": email, "password": password})
        if code != 200:
            raise RuntimeError(f"login returned {code}: {body[:300]!r}")
    token = json.loads(body)["access_token"]
    code, body = http("GET", base + ME_PATH, token=token)
    if code != 200:
        raise RuntimeError(f"GET {ME_PATH} with the new token returned {code}: {body[:300]!r}")
    return token


@dataclass
class WrkResult:
    label: str
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    timeouts: int
    errors: int  # connect + read + write + non-2xx/3xx

    def line(self) -> str:
        return (
            f"{self.label:<8} {self.rps:>9.1f} req/s   p50 {self.p50_ms:>7.1f} ms   "
            f"p90 {self.p90_ms:>7.1f} ms   p99 {self.p99_ms:>7.1f} ms   "
            f"max {self.max_ms:>7.1f} ms   timeouts {self.timeouts}   "
            f"errors {self.errors}   ({self.requests} requests)"
        )


def run_wrk(
    label: str,
    urls: list[str],
    token: str,
    duration: int,
    connections: int,
    threads: int,
    lua_path: Path,
) -> WrkResult:
    """Runs wrk against each url at once, the connections split between them."""
    env = {**os.environ, "BENCH_TOKEN": token, "BENCH_EXTRA_HEADER": EXTRA_HEADER[0]}
    procs = []
    n = len(urls)
    for i, url in enumerate(urls):
        conns = connections // n + (1 if i < connections % n else 0)
        thr = max(1, min(threads, conns))
        cmd = [
            "wrk",
            f"-t{thr}",
            f"-c{conns}",
            f"-d{duration}s",
            "--timeout",
            "2s",
            "-s",
            str(lua_path),
            url + ME_PATH,
        ]
        procs.append(
            subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    parts = []
    for p in procs:
        out, _ = p.communicate(timeout=duration + 60)
        m = re.search(r"BENCH_JSON (\{.*\})", out)
        if not m:
            raise RuntimeError(f"wrk output not understood:\n{out}")
        parts.append(json.loads(m.group(1)))
    reqs = sum(d["requests"] for d in parts)
    secs = max(d["duration_us"] for d in parts) / 1e6
    # With several targets the exact merged percentiles are unknown: weight p50 by
    # request count, and take the worst p90/p99/max (pessimistic).
    p50 = sum(d["p50_us"] * d["requests"] for d in parts) / max(reqs, 1)
    return WrkResult(
        label=label,
        rps=reqs / secs,
        p50_ms=p50 / 1000,
        p90_ms=max(d["p90_us"] for d in parts) / 1000,
        p99_ms=max(d["p99_us"] for d in parts) / 1000,
        max_ms=max(d["max_us"] for d in parts) / 1000,
        requests=reqs,
        timeouts=sum(d["timeout"] for d in parts),
        errors=sum(d["connect"] + d["read"] + d["write"] + d["status"] for d in parts),
    )


def stop_process(proc: subprocess.Popen, grace_s: float = 60.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


# --------------------------------------------------------------------------------------
# Child processes: plain uvicorn, and Ray Serve
# --------------------------------------------------------------------------------------


def create_ceiling_app():
    """The ceiling: FastAPI's cheapest route (no middleware, no auth, no database) on the
    same path, so wrk's script is the same; what /auth/me costs above it is the app's."""
    from fastapi import FastAPI

    app = FastAPI(title="ceiling")

    @app.get(ME_PATH)
    async def trivial() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def make_app(kind: str):
    if kind == "standin":
        return create_standin_app()
    if kind == "ceiling":
        return create_ceiling_app()
    from autonomos.config import Settings
    from autonomos.serve_apps.api.app import create_app

    return create_app(Settings())


def child_uvicorn(args: argparse.Namespace) -> None:
    import uvicorn

    uvicorn.run(
        make_app(args.app),
        host="127.0.0.1",
        port=args.port,
        workers=1,
        access_log=False,
        log_level="warning",
    )


def child_serve(args: argparse.Namespace) -> None:
    """Starts Ray + Serve in this process (its env already holds the RAY_SERVE_* vars),
    writes the URLs to load to ``args.ready_file`` and serves until SIGTERM."""
    import ray
    from ray import serve

    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("flag", True))

    # address="local": always a private instance, never one that `ray start` left
    # running on this machine (ray.init() with no address would join it).
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        namespace="autonomos-bench",
    )
    try:
        access_log = args.access_log
        http_opts = {"host": "127.0.0.1", "port": args.port}
        serve.start(http_options=http_opts, logging_config={"enable_access_log": access_log})
        if args.app == "standin":
            app = standin_build_ingress(None, args.replicas, args.max_ongoing, access_log)
        else:
            from autonomos.config import Settings
            from autonomos.serve_apps.api.deployment import build_ingress

            app = build_ingress(Settings())
        serve.run(app, name="api", route_prefix="/", blocking=False)
        env = os.environ
        haproxy = env.get("RAY_SERVE_ENABLE_HA_PROXY") == "1"
        direct = env.get("RAY_SERVE_ENABLE_DIRECT_INGRESS") == "1" or (
            env.get("RAY_SERVE_THROUGHPUT_OPTIMIZED") == "1"
            and env.get("RAY_SERVE_ENABLE_DIRECT_INGRESS") != "0"
        )
        proxy_url = f"http://127.0.0.1:{args.port}"
        urls = [proxy_url]
        if direct and not haproxy and not args.via_proxy:
            urls = find_direct_ingress_urls(args.replicas_expected)
        for u in urls:
            wait_http(u + ME_PATH, 180)
        Path(args.ready_file).write_text(json.dumps({"urls": urls}))
        while not stop["flag"]:
            time.sleep(0.2)
    finally:
        try:
            serve.shutdown()
        finally:
            ray.shutdown()


def find_direct_ingress_urls(expected: int, deadline_s: float = 180) -> list[str]:
    """Direct ingress without HAProxy: each replica serves HTTP on its own port; the
    controller's target groups say which (other Ray clusters on this machine may hold
    ports of the same 30000+ range, so the ports are asked for, not probed)."""
    import ray
    from ray.serve._private.common import RequestProtocol
    from ray.serve._private.constants import SERVE_CONTROLLER_NAME, SERVE_NAMESPACE

    controller = ray.get_actor(SERVE_CONTROLLER_NAME, namespace=SERVE_NAMESPACE)
    end = time.monotonic() + deadline_s
    urls: list[str] = []
    while time.monotonic() < end:
        groups = ray.get(controller.get_target_groups.remote("api"))
        urls = sorted(
            {
                f"http://127.0.0.1:{t.port}"
                for g in groups
                if g.protocol == RequestProtocol.HTTP
                for t in g.targets
            }
        )
        if len(urls) >= expected:
            return urls
        time.sleep(0.5)
    if urls:
        return urls
    raise TimeoutError("no direct-ingress replica target")


# --------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------


def serve_settings_env(args: argparse.Namespace) -> tuple[dict[str, str], int]:
    """RAY_SERVE_* env for the Serve process, and the replica count to expect."""
    env: dict[str, str] = {}
    replicas, max_ongoing = args.replicas, args.max_ongoing
    if args.app == "project":
        from autonomos.config import Settings

        settings = Settings()
        replicas = settings.serve_replicas
        max_ongoing = settings.serve_max_ongoing_requests
        if not args.no_project_env:
            from autonomos.serve_apps.api.deployment import serve_env

            env.update(serve_env(settings))
    args.shape = f"replicas={replicas} max_ongoing_requests={max_ongoing}"
    for kv in args.serve_env:
        k, sep, v = kv.partition("=")
        if not sep:
            raise SystemExit(f"--serve-env wants KEY=VALUE, got {kv!r}")
        env[k] = v
    return env, replicas


def isolation_env(ray_env: dict[str, str], workdir: Path) -> dict[str, str]:
    """HAProxy mode's fixed files (/tmp/haproxy-serve) and ports (8404, 9101, 8500, 9500)
    moved to this run's own, so that another Serve on the machine does not clash."""
    if ray_env.get("RAY_SERVE_ENABLE_HA_PROXY") != "1":
        return {}
    # HAProxy caps unix socket paths at 97 bytes and Ray adds a 56-char node id
    # directory: keep the base short.
    d = Path(tempfile.mkdtemp(prefix="hx", dir="/tmp"))
    (workdir / "haproxy-dir").write_text(str(d))
    return {
        "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": str(d / "haproxy.cfg"),
        "RAY_SERVE_HAPROXY_SOCKET_PATH": str(d / "admin.sock"),
        "RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH": str(d / "metrics.sock"),
        "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": str(d),
        "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": str(d / "server-state"),
        "RAY_SERVE_HAPROXY_STATS_PORT": str(free_port()),
        "RAY_SERVE_HAPROXY_METRICS_PORT": str(free_port()),
        "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT": str(free_port()),
        "RAY_SERVE_FALLBACK_PROXY_GRPC_PORT": str(free_port()),
    }


def kill_processes_mentioning(marker: str, grace_s: float = 10.0) -> None:
    """Ray 2.60 leaves the HAProxy it started running after ray.shutdown() (it is not in
    the actor's process group): end the ones whose command line names this run's own
    HAProxy directory, by pid."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    pids = [p for p in pids if p != os.getpid()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.monotonic() + grace_s
    while pids and time.monotonic() < end:
        pids = [p for p in pids if Path(f"/proc/{p}").exists()]
        time.sleep(0.2)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    fh = open(log, "wb")  # the child inherits it; closed when this process exits
    return subprocess.Popen(
        [sys.executable, __file__, *argv],
        env=env,
        stdout=fh,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=str(REPO_ROOT),
    )


def measure_uvicorn(args, base_env, workdir, lua, app: str, label: str) -> WrkResult:
    port = free_port()
    log = workdir / f"uvicorn-{label}.log"
    proc = spawn(["--_child", "uvicorn", "--app", app, "--port", str(port)], base_env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + ME_PATH, 120, proc)
        # the ceiling route ignores the header: any token will do
        token = "unused" if app == "ceiling" else register_token(base)
        if args.warmup:
            run_wrk("warmup", [base], token, args.warmup, args.connections, args.threads, lua)
        return run_wrk(label, [base], token, args.duration, args.connections, args.threads, lua)
    except Exception:
        print(log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        stop_process(proc)


def measure_serve(args, base_env, workdir, lua) -> tuple[WrkResult, dict[str, str]]:
    ray_env, replicas = serve_settings_env(args)
    env = {**base_env, **isolation_env(ray_env, workdir), **ray_env}
    ready = workdir / "serve.ready"
    argv = [
        "--_child",
        "serve",
        "--app",
        args.app,
        "--port",
        str(args.serve_port),
        "--ready-file",
        str(ready),
        "--replicas",
        str(args.replicas),
        "--max-ongoing",
        str(args.max_ongoing),
        "--replicas-expected",
        str(replicas),
    ]
    if args.access_log:
        argv.append("--access-log")
    if args.via_proxy:
        argv.append("--via-proxy")
    proc = spawn(argv, env, workdir / "serve.log")
    try:
        end = time.monotonic() + 300
        while not ready.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"Serve process exited with {proc.returncode}")
            if time.monotonic() > end:
                raise TimeoutError("Serve did not come up in 300 s")
            time.sleep(0.5)
        urls = json.loads(ready.read_text())["urls"]
        token = register_token(urls[0])
        if args.warmup:
            run_wrk("warmup", urls, token, args.warmup, args.connections, args.threads, lua)
        res = run_wrk("serve", urls, token, args.duration, args.connections, args.threads, lua)
        return res, {**ray_env, "_urls": " ".join(urls)}
    except Exception:
        print((workdir / "serve.log").read_text()[-5000:], file=sys.stderr)
        raise
    finally:
        stop_process(proc, grace_s=90)
        hx = workdir / "haproxy-dir"
        if hx.exists():
            kill_processes_mentioning(hx.read_text())
            shutil.rmtree(hx.read_text(), ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=15, help="seconds of load per server")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load first")
    p.add_argument("--app", choices=["project", "standin", "ceiling"], default="project")
    p.add_argument(
        "--only",
        choices=["all", "both", "ceiling", "serve", "uvicorn"],
        default="all",
        help="all: the ceiling, then the app on uvicorn, then on Serve; both: the last two",
    )
    p.add_argument(
        "--serve-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra/overriding env for the process that starts Ray",
    )
    p.add_argument(
        "--no-project-env", action="store_true", help="do not apply deployment.serve_env(settings)"
    )
    p.add_argument(
        "--via-proxy",
        action="store_true",
        help="with direct ingress and no HAProxy, load the head proxy port "
        "instead of the replicas' own ports",
    )
    p.add_argument(
        "--serve-port", type=int, default=None, help="Serve HTTP port (default: a free port)"
    )
    p.add_argument("--replicas", type=int, default=1, help="stand-in only")
    p.add_argument("--max-ongoing", type=int, default=128, help="stand-in only")
    p.add_argument("--access-log", action="store_true", help="stand-in only")
    p.add_argument("--json", action="store_true", help="also print one JSON line")
    p.add_argument(
        "--extra-header",
        default="",
        metavar="'Name: value'",
        help="one more header on every loaded request, e.g. "
        "'x-request-disconnect-disabled: ?1' (Serve skips its per-request "
        "disconnect watcher)",
    )
    # Internal: child processes.
    p.add_argument("--_child", choices=["uvicorn", "serve"], help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--ready-file", help=argparse.SUPPRESS)
    p.add_argument("--replicas-expected", type=int, default=1, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main() -> int:
    args = parse_args()
    if args._child == "uvicorn":
        child_uvicorn(args)
        return 0
    if args._child == "serve":
        child_serve(args)
        return 0

    if shutil.which("wrk") is None:
        print(
            "wrk is not installed: run `bash scripts/install-bench-tools.sh` "
            "(apt-get install -y wrk) and try again.",
            file=sys.stderr,
        )
        return 2
    if args.serve_port is None:
        # A free port, not 8000: other Serve instances may share this machine.
        args.serve_port = free_port()
    if args.serve_port == 6379:
        raise SystemExit("6379 is Redis's port")

    EXTRA_HEADER[0] = args.extra_header
    workdir = Path(tempfile.mkdtemp(prefix="api-latency-"))
    lua = workdir / "auth.lua"
    lua.write_text(LUA_SCRIPT)
    base_env = dict(os.environ)
    base_env.setdefault("AUTONOMOS_DATA_DIR", str(workdir / "data"))
    base_env.setdefault("AUTONOMOS_JWT_SECRET", uuid.uuid4().hex + uuid.uuid4().hex)
    base_env["AUTONOMOS_SERVE_PORT"] = str(args.serve_port)
    base_env["AUTONOMOS_SERVE_HOST"] = "127.0.0.1"
    base_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    base_env["PYTHONUNBUFFERED"] = "1"

    print(
        f"api_latency: GET {ME_PATH} (bearer), app={args.app}, wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s on 127.0.0.1 (+{args.warmup}s warm-up)"
    )
    ceiling = uv = sv = None
    ray_env: dict[str, str] = {}
    try:
        if args.only in ("all", "ceiling"):
            ceiling = measure_uvicorn(args, base_env, workdir, lua, "ceiling", "ceiling")
            print(ceiling.line(), flush=True)
        if args.only in ("all", "both", "uvicorn"):
            uv = measure_uvicorn(args, base_env, workdir, lua, args.app, "uvicorn")
            print(uv.line(), flush=True)
        if args.only in ("all", "both", "serve"):
            sv, ray_env = measure_serve(args, base_env, workdir, lua)
            shown = {k: v for k, v in ray_env.items() if not k.startswith("_")}
            print(f"serve env: {shown or '(defaults)'}  {args.shape}  target: {ray_env['_urls']}")
            print(sv.line(), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    goals = judge(ceiling, uv, sv)
    for line in goals:
        print(line)
    ok = all("NOT MET" not in line for line in goals)
    if args.json:
        print(
            json.dumps(
                {
                    "ceiling": ceiling.__dict__ if ceiling else None,
                    "uvicorn": uv.__dict__ if uv else None,
                    "serve": sv.__dict__ if sv else None,
                    "serve_env": ray_env,
                }
            )
        )
    return 0 if ok else 1


def judge(ceiling: WrkResult | None, uv: WrkResult | None, sv: WrkResult | None) -> list[str]:
    """One line per goal that this run can judge. Only ratios within one run count: the
    box is shared, and its absolute req/s drift by 2x between runs."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    lines = []
    if ceiling and uv:
        share = uv.rps / ceiling.rps if ceiling.rps else 0.0
        lines.append(
            f"uvicorn /auth/me / ceiling: {share:.2f} (goal >= {GOAL_OF_CEILING}): "
            f"{verdict(share >= GOAL_OF_CEILING)}"
        )
    if uv and sv:
        ratio = sv.rps / uv.rps if uv.rps else 0.0
        lines.append(
            f"serve / uvicorn /auth/me: {ratio:.2f} (goal >= {GOAL_RATIO}): "
            f"{verdict(ratio >= GOAL_RATIO)}"
        )
    if sv:
        lines.append(
            f"serve p99: {sv.p99_ms:.1f} ms (goal < {GOAL_P99_MS:.0f} ms): "
            f"{verdict(sv.p99_ms < GOAL_P99_MS)}"
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
