"""Shared fixtures: the same tests run on SQLite and on the real PostgreSQL.

Postgres tests use a fresh database per session, migrated by the owner role
(``postgres``), while the app connects as ``autonomos_app``: a LOGIN role that neither
owns the tables nor bypasses RLS. Without a server they skip on a laptop, never in CI
(``CI=true`` turns the skip into a failure).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from autonomos.config import Settings

PG_HOST = os.environ.get("AUTONOMOS_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("AUTONOMOS_TEST_PG_PORT", "5432"))
APP_ROLE = "autonomos_app"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _require(condition: bool, why: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{why} (CI=true: tests never skip)")
    pytest.skip(why)


async def _pg_admin(sql: list[str], database: str = "postgres") -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database=database)
    try:
        for stmt in sql:
            await conn.execute(stmt)
    finally:
        await conn.close()


def _pg_available() -> bool:
    try:
        asyncio.run(_pg_admin(["SELECT 1"]))
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database; yields its name and drops it after the session."""
    _require(_pg_available(), f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}")
    name = f"autonomos_test_{uuid.uuid4().hex[:8]}"
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


def pg_urls(database: str) -> tuple[str, str]:
    """(owner URL, app URL)."""
    base = f"@{PG_HOST}:{PG_PORT}/{database}"
    return f"postgresql+asyncpg://postgres{base}", f"postgresql+asyncpg://{APP_ROLE}{base}"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Test settings. Tests write their sources in pytest's temp folders beside the data
    dir, so that folder is a files root (the data dir itself stays carved out of it)."""
    values: dict[str, object] = {
        "files_roots": [str(data_dir.resolve().parent)],
        "data_dir": data_dir,
        "argon2_time_cost": 2,
        "argon2_memory_kib": 19_456,
        "login_max_failures": 3,
        "login_delay_s": 60,
        "log_level": "WARNING",
        "sync_executor": "inline",
        "agent_scheduler_s": 0,  # tests drive the scheduler's ticks themselves
        "job_follow_s": 0,  # and the job follower's
        "event_sweep_s": 0,  # and the event log's sweeps
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def settings(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    data_dir = tmp_path_factory.mktemp(f"data-{backend}")
    if backend == "sqlite":
        return make_settings(data_dir)
    owner, app = pg_urls(request.getfixturevalue("pg_database"))
    return make_settings(data_dir, database_url=app, migration_database_url=owner)


@pytest.fixture(scope="session")
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The FastAPI app (lifespan run: migrated, keys loaded) behind an in-process client."""
    from autonomos.serve_apps.api.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.app = app  # type: ignore[attr-defined]
            client.runtime = app.state.runtime  # type: ignore[attr-defined]
            yield client


class Tenant:
    """A registered tenant with its admin's tokens, for tests."""

    def __init__(self, name: str, email: str, password: str, tokens: dict[str, str]) -> None:
        self.name, self.email, self.password, self.tokens = name, email, password, tokens

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


async def register(client: httpx.AsyncClient, prefix: str = "t") -> Tenant:
    suffix = uuid.uuid4().hex[:8]
    name, email, password = (
        f"{prefix}-{suffix}",
        f"admin-{suffix}@example.com",
        "correct horse battery",
    )
    r = await client.post(
        "/api/v1/auth/register",
        json={"tenant_name": name, "email": email, "password": password, "full_name": "Ada"},
    )
    assert r.status_code == 202, r.text
    # registering never hands out tokens (it must not tell a taken e-mail): log in
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return Tenant(name, email, password, r.json())


async def files_connection(
    api: httpx.AsyncClient, t: Tenant, path: Path | str, prefix: str = "files"
) -> str:
    """Create a files connection over ``path`` through the API; its id."""
    r = await api.post(
        "/api/v1/aam/connections",
        headers=t.headers,
        json={
            "name": f"{prefix}-{uuid.uuid4().hex[:6]}",
            "source_type": "files",
            "config": {"path": str(path)},
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
async def tenant_a(api: httpx.AsyncClient) -> Tenant:
    return await register(api, "a")


@pytest.fixture
async def tenant_b(api: httpx.AsyncClient) -> Tenant:
    return await register(api, "b")


# Ports for servers the tests start (Ray heads, uvicorn, moto, ...), drawn at random below
# the kernel's ephemeral range (32768+ by default) and above Ray's worker ports (10002-19999):
# a port the kernel handed out for a bind to 0 is soon handed out again, to any process's
# outgoing connection or to a Ray core worker's gRPC server, and a head then started on it
# fails with "address already in use" when other Ray clusters run on the same machine.
_PORTS = (20000, 32000)


def free_port() -> int:
    """A port nothing on 127.0.0.1 listens on now (a fresh one on each call)."""
    import random
    import socket

    for _ in range(200):
        port = random.randrange(*_PORTS)  # a port, not a secret
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_PORTS[0]}-{_PORTS[1]} on 127.0.0.1")


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """One local Ray for the whole session (random GCS port, never Redis's 6379)."""
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        namespace="autonomos-test",
        log_to_driver=False,
        logging_level="WARNING",
    )
    yield
    ray.shutdown()
