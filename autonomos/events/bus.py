"""Event bus port and its two adapters: Redis Streams and an in-process bus.

Topics are per tenant: ``autonomos:<tenant_id>:<name>`` (see :func:`tenant_topic`), e.g.
``canonical`` or ``drift``. Events are pydantic envelopes, stored as the JSON of
``model_dump(mode="json")``; readers get ``(id, payload)`` pairs in publish order and
page with ``after`` (the last id seen, exclusive). Ids look like Redis stream ids
(``<ms>-<seq>``) on both adapters.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

TOPIC_PREFIX = "autonomos"
DEFAULT_MAXLEN = 100_000
_FIELD = "data"


def tenant_topic(tenant_id: uuid.UUID | str, name: str) -> str:
    """The stream name of topic ``name`` for one tenant."""
    tid = uuid.UUID(str(tenant_id))
    if not name or ":" in name:
        raise ValueError(f"bad topic name {name!r}")
    return f"{TOPIC_PREFIX}:{tid}:{name}"


def _check(topic: str, event: BaseModel) -> None:
    parts = topic.split(":")
    if len(parts) != 3 or parts[0] != TOPIC_PREFIX or not parts[2]:
        raise ValueError(f"topic {topic!r} is not {TOPIC_PREFIX}:<tenant_id>:<name>")
    uuid.UUID(parts[1])
    tid = getattr(event, "tenant_id", None)
    if tid is not None and str(tid) != parts[1]:
        raise ValueError(f"event of tenant {tid} published to {topic!r}")


def _parse_id(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


@runtime_checkable
class EventBus(Protocol):
    async def publish(self, topic: str, event: BaseModel) -> None: ...

    async def read(
        self, topic: str, after: str | None = None, limit: int = 100
    ) -> list[tuple[str, dict[str, Any]]]: ...

    async def close(self) -> None: ...


class InMemoryBus:
    """A bounded deque per topic, in one process (the default without Redis)."""

    def __init__(self, maxlen: int = DEFAULT_MAXLEN) -> None:
        self.maxlen = maxlen
        self._topics: dict[str, deque[tuple[str, dict[str, Any]]]] = {}
        self._seq = 0

    async def publish(self, topic: str, event: BaseModel) -> None:
        _check(topic, event)
        self._seq += 1
        q = self._topics.setdefault(topic, deque(maxlen=self.maxlen))
        q.append((f"0-{self._seq}", event.model_dump(mode="json")))

    async def read(
        self, topic: str, after: str | None = None, limit: int = 100
    ) -> list[tuple[str, dict[str, Any]]]:
        q = self._topics.get(topic, ())
        start = _parse_id(after) if after is not None else None
        out: list[tuple[str, dict[str, Any]]] = []
        for eid, payload in q:
            if len(out) >= limit:
                break
            if start is None or _parse_id(eid) > start:
                out.append((eid, dict(payload)))
        return out

    async def close(self) -> None:
        self._topics.clear()


class RedisStreamsBus:
    """Redis Streams: XADD with MAXLEN trimming (approximate by default), XRANGE to read."""

    def __init__(self, url: str, *, maxlen: int = DEFAULT_MAXLEN, approximate: bool = True) -> None:
        import redis.asyncio as aioredis

        self.url, self.maxlen, self.approximate = url, maxlen, approximate
        self.client: aioredis.Redis = aioredis.from_url(url, decode_responses=True)

    async def publish(self, topic: str, event: BaseModel) -> None:
        _check(topic, event)
        await self.client.xadd(
            topic,
            {_FIELD: json.dumps(event.model_dump(mode="json"), separators=(",", ":"))},
            maxlen=self.maxlen,
            approximate=self.approximate,
        )

    async def read(
        self, topic: str, after: str | None = None, limit: int = 100
    ) -> list[tuple[str, dict[str, Any]]]:
        if after is not None:
            _parse_id(after)  # reject junk before it reaches Redis
        start = "-" if after is None else f"({after}"
        entries = await self.client.xrange(topic, min=start, max="+", count=limit)
        out: list[tuple[str, dict[str, Any]]] = []
        for eid, fields in entries or []:
            if eid is not None and fields is not None:
                out.append((str(eid), json.loads(fields[_FIELD])))
        return out

    async def close(self) -> None:
        await self.client.aclose()


def bus_from_url(redis_url: str | None, *, maxlen: int = DEFAULT_MAXLEN) -> EventBus:
    """Redis Streams when ``redis_url`` is set, an in-process bus otherwise."""
    if redis_url:
        return RedisStreamsBus(redis_url, maxlen=maxlen)
    return InMemoryBus(maxlen=maxlen)


_log = logging.getLogger("autonomos.events")


def _fan_out_errors() -> tuple[type[Exception], ...]:
    """What an unreachable bus raises. ``RedisError`` only once redis is loaded (by a
    :class:`RedisStreamsBus`): importing redis costs every process that publishes to an
    in-process bus (tenant actors without ``REDIS_URL``) ~0.1 s of CPU and a few MiB."""
    exceptions = sys.modules.get("redis.exceptions")
    return (OSError,) if exceptions is None else (OSError, exceptions.RedisError)


def publisher(
    bus: EventBus, tenant_id: uuid.UUID | str, name: str
) -> Callable[[BaseModel], Awaitable[None]]:
    """An ``async (event) -> None`` publishing to one tenant topic (e.g. SyncEngine's).

    Fan-out is best effort: the event was already committed durably (manifest and event
    log), so an unreachable Redis is logged, never allowed to fail the sync that made it.
    """
    topic = tenant_topic(tenant_id, name)

    async def publish(event: BaseModel) -> None:
        try:
            await bus.publish(topic, event)
        except _fan_out_errors() as e:
            _log.warning("event fan-out to %s failed: %s", topic, type(e).__name__)

    return publish
