"""Event bus: Redis Streams when ``REDIS_URL`` is set, an in-process bus otherwise."""

from autonomos.events.bus import (
    DEFAULT_MAXLEN,
    EventBus,
    InMemoryBus,
    PlatformEvent,
    RedisStreamsBus,
    bus_from_url,
    event_publisher,
    publisher,
    tenant_topic,
)

__all__ = [
    "DEFAULT_MAXLEN",
    "EventBus",
    "InMemoryBus",
    "PlatformEvent",
    "RedisStreamsBus",
    "bus_from_url",
    "event_publisher",
    "publisher",
    "tenant_topic",
]
