"""API replicas as separate processes (uvicorn), over the test session's database.

A second runtime inside the test process would share its process-wide state (the event
log the process numbers with, loops bound to engines); a process of its own is what a
replica is. Each gets the fields the test settings set, plus overrides, as JSON:

    python -m tests.helpers.api_process '<settings JSON>' PORT
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autonomos.config import Settings

REPO = Path(__file__).resolve().parents[2]


def settings_json(settings: Settings, **overrides: Any) -> str:
    values = settings.model_dump(mode="json", include=settings.model_fields_set)
    values.update({k: str(v) if isinstance(v, Path) else v for k, v in overrides.items()})
    return json.dumps(values)


@contextmanager
def api_processes(
    configs: list[str], *, timeout_s: float = 180.0, log_dir: Path | None = None
) -> Iterator[list[str]]:
    """One API process per settings JSON, started together; yields their base URLs once
    every one answers ``/healthz``, and stops them (SIGTERM, then SIGKILL) afterwards."""
    from tests.conftest import free_port

    procs: list[tuple[subprocess.Popen[bytes], str]] = []
    try:
        for i, config in enumerate(configs):
            port = free_port()
            out = open(log_dir / f"api-{i}.log", "wb") if log_dir else subprocess.DEVNULL
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.helpers.api_process", config, str(port)],
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            procs.append((proc, f"http://127.0.0.1:{port}"))
        deadline = time.monotonic() + timeout_s
        for proc, url in procs:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the API process for {url} exited ({proc.returncode})")
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the API process for {url} did not start")
                time.sleep(0.2)
        yield [url for _, url in procs]
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def main() -> None:
    import uvicorn

    from autonomos.serve_apps.api.app import create_app

    settings = Settings(_env_file=None, **json.loads(sys.argv[1]))  # type: ignore[call-arg]
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=int(sys.argv[2]),
        log_level="warning",
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
