"""A minimal child kind for supervisor tests: a real actor whose ``busy`` flag the test
sets, to register as an extra kind (the RepairAgent and DCL actors register the same way).
"""

from __future__ import annotations

import os
from typing import Any
from uuid import UUID

import ray


@ray.remote(num_cpus=0, max_restarts=1)
class Probe:
    def __init__(self, settings: Any, tenant_id: UUID, child_id: str | None = None) -> None:
        self.tenant_id, self.child_id = tenant_id, child_id
        self._busy = False
        self._events: list[dict[str, Any]] = []

    def ping(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "tenant_id": str(self.tenant_id), "id": self.child_id}

    def set_busy(self, busy: bool) -> None:
        self._busy = busy

    def busy(self) -> bool:
        return self._busy

    def record(self, event: dict[str, Any]) -> None:
        self._events.append(event)

    def events(self) -> list[dict[str, Any]]:
        return list(self._events)


MARKED: str | None = None  # set by ``mark`` in whichever worker process runs it


@ray.remote(num_cpus=0)
def mark(tenant_id: str) -> int:
    """Leave a trace of ``tenant_id`` in this worker process; returns its pid."""
    global MARKED
    MARKED = tenant_id
    return os.getpid()


@ray.remote(num_cpus=0)
class Marker:
    """A detached tenant actor that runs tasks (as the supervisor's agent tasks do)."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    def run_tasks(self, n: int) -> list[int]:
        return list(ray.get([mark.remote(self.tenant_id) for _ in range(n)]))

    def ping(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "marked": MARKED}
