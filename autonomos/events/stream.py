"""Numbered events over Redis Streams, so every API process on every node sees them.

Every process that numbers events (API replicas, Ray actors) adds each numbered batch of
one tenant to one stream (``AUTONOMOS_EVENT_STREAM``, trimmed to about
``AUTONOMOS_EVENT_STREAM_MAXLEN`` entries, like the topics of ``bus.py``); each API
process runs one reader (``XREAD BLOCK``) that hands what it reads to its
:class:`~autonomos.events.hub.EventHub`. One stream rather than one per tenant: a reader
then needs no list of tenants, and a batch costs one ``XADD`` whatever the tenant.

Redis carries no truth here: an entry lost (Redis restarted, trimmed before a slow reader
got it) is read from the log by the subscriber that notices the gap, and after any
reconnection the hub polls the log once for the tenants it serves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel
from redis.exceptions import RedisError

from autonomos.events.bus import DEFAULT_MAXLEN

log = logging.getLogger("autonomos.events.stream")

__all__ = ["RedisEventStream"]

# (tenant, the JSON objects of its events) -> None
Deliver = Callable[[uuid.UUID, list[dict[str, Any]]], None]


class RedisEventStream:
    """``XADD`` of numbered batches (a :data:`~autonomos.events.log.Fanout`) and the
    reader loop that follows them. The events travel as the JSON of their pydantic
    models; this transport knows nothing else of them."""

    def __init__(
        self,
        url: str,
        *,
        key: str = "autonomos:events",
        maxlen: int = DEFAULT_MAXLEN,
        block_ms: int = 5000,
    ) -> None:
        import redis.asyncio as aioredis

        self.url, self.key, self.maxlen, self.block_ms = url, key, maxlen, block_ms
        # short timeouts: a producer's numbering waits on its XADD (never its commit)
        self.client: aioredis.Redis = aioredis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2
        )

    async def publish(self, tenant_id: uuid.UUID, events: Sequence[BaseModel]) -> None:
        if not events:
            return
        batch = "[" + ",".join(e.model_dump_json() for e in events) + "]"
        await self.client.xadd(
            self.key,
            {"tenant": str(tenant_id), "events": batch},
            maxlen=self.maxlen,
            approximate=True,
        )

    async def follow(
        self,
        deliver: Deliver,
        *,
        reconnected: Callable[[], Any] | None = None,
        retry_s: float = 1.0,
    ) -> None:
        """Read the stream from its current end for ever, handing each entry to
        ``deliver``; after Redis was unreachable, call (and await) ``reconnected`` once it
        answers again, then go on from the last entry read."""
        import redis.asyncio as aioredis

        reader: aioredis.Redis = aioredis.from_url(
            self.url, socket_connect_timeout=2, socket_timeout=self.block_ms / 1000 + 5
        )
        last: str | None = None
        failing = False
        try:
            while True:
                try:
                    if last is None:
                        newest: Any = await reader.xrevrange(self.key, count=1)
                        last = newest[0][0].decode() if newest else "0-0"
                    answer: Any = await reader.xread(
                        {self.key: last}, count=100, block=self.block_ms
                    )
                    if failing:
                        failing = False
                        log.info("event stream %s: Redis answers again", self.key)
                        if reconnected is not None:
                            await reconnected()
                except (OSError, RedisError) as e:
                    if not failing:
                        log.warning(
                            "event stream %s: Redis unreachable (%s); retrying",
                            self.key,
                            type(e).__name__,
                        )
                    failing = True
                    await asyncio.sleep(retry_s)
                    continue
                for _stream, entries in answer or ():
                    for entry_id, fields in entries:
                        last = entry_id.decode()
                        try:
                            tenant_id = uuid.UUID(fields[b"tenant"].decode())
                            events = json.loads(fields[b"events"])
                            if not isinstance(events, list):
                                raise ValueError("not a list")
                        except (KeyError, ValueError):
                            log.warning("event stream %s: skipped bad entry %s", self.key, last)
                            continue
                        deliver(tenant_id, events)
        finally:
            await reader.aclose()

    async def close(self) -> None:
        await self.client.aclose()
