"""DriftMonitor: the tenant's live view of schema drift, one entry per (connection, stream).

The durable record is the ``drift_events`` table; this actor only keeps the latest event
per stream in memory for cheap reads and for agents that react to drift. Restriction: a
restarted monitor starts empty and fills again from the next notifications.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import ray


class DriftEventError(ValueError):
    """A notification lacks the fields that identify it; never retryable."""


_REQUIRED = ("id", "connection_id", "stream", "detected_at")


@ray.remote(num_cpus=0, max_restarts=3, max_task_retries=3)
class DriftMonitor:
    """Named ``drift:<tenant>``; created on demand and owned by the tenant's supervisor."""

    def __init__(self, tenant_id: UUID) -> None:
        self.tenant_id = tenant_id
        self._latest: dict[tuple[str, str], dict[str, Any]] = {}

    def notify(self, event: dict[str, Any]) -> bool:
        """Record ``event`` if it is newer than the stream's current one; True if kept.

        Idempotent and order-insensitive: replays and late arrivals never move the view
        back (events compare by ISO ``detected_at``, then id).
        """
        missing = [k for k in _REQUIRED if k not in event]
        if missing:
            raise DriftEventError(f"drift event lacks {', '.join(missing)}")
        key = (str(event["connection_id"]), str(event["stream"]))
        current = self._latest.get(key)
        if current is not None and _order(current) >= _order(event):
            return False
        self._latest[key] = dict(event)
        return True

    def latest(self, connection_id: UUID | str | None = None) -> list[dict[str, Any]]:
        """Latest drift per stream, newest first; optionally of one connection."""
        wanted = None if connection_id is None else str(connection_id)
        events = [e for (c, _), e in self._latest.items() if wanted in (None, c)]
        return sorted(events, key=_order, reverse=True)


def _order(event: dict[str, Any]) -> tuple[str, str]:
    return str(event["detected_at"]), str(event["id"])
