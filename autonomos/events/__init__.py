"""Event bus: Redis Streams when ``REDIS_URL`` is set, an in-process bus otherwise."""

from autonomos.events.bus import (
    DEFAULT_MAXLEN,
    EventBus,
    InMemoryBus,
    RedisStreamsBus,
    bus_from_url,
    publisher,
    tenant_topic,
)

__all__ = [
    "DEFAULT_MAXLEN",
    "EventBus",
    "InMemoryBus",
    "RedisStreamsBus",
    "bus_from_url",
    "publisher",
    "tenant_topic",
]
