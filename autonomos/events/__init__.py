"""Event bus: Redis Streams when ``REDIS_URL`` is set, an in-process bus otherwise (the
data-plane topics ``canonical`` and ``drift``). Platform events go through the tenant's
durable event log instead: :mod:`autonomos.events.log`."""

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
