"""Tenant actors without ``REDIS_URL`` never load redis: the supervisor's set-up (event
log, after-sync pipeline) and the connector's sync engine publish to an in-process bus,
and importing redis would cost each of their processes ~0.1 s of CPU and ~7 MiB."""

from __future__ import annotations

import subprocess
import sys


def redis_loaded_after(code: str) -> bool:
    probe = f"{code}\nimport sys\nprint('redis' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout.split()[-1] == "True"


def test_tenant_actors_do_not_import_redis() -> None:
    code = (
        "from autonomos.actors.supervisor import _import_deps\n"
        "_import_deps()\n"
        "import autonomos.actors.connector, autonomos.aam.sync, autonomos.events.log\n"
        "from autonomos.events import bus_from_url, publisher\n"
        "publisher(bus_from_url(None), '00000000-0000-4000-8000-000000000000', 'drift')"
    )
    assert not redis_loaded_after(code)


def test_a_redis_bus_loads_redis() -> None:
    code = "from autonomos.events import bus_from_url\nbus_from_url('redis://127.0.0.1:1/0')"
    assert redis_loaded_after(code)
