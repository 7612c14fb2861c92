"""Live delivery of the tenant event log to the clients of one API process.

Every numbered event reaches the :class:`EventHub` of each API process: at once from the
process's own :class:`~autonomos.events.log.EventLog` (its fan-out), over Redis Streams
from every other process when ``AUTONOMOS_REDIS_URL`` is set (``events/stream.py``), and
otherwise by polling the log for the tenants that have clients here (events numbered in
Ray actors). Those paths may deliver an event twice, late or out of order; none of that
reaches a client, because a :class:`Subscription` passes ids strictly in sequence: an id
it has passed is dropped, and an id past the next one makes it read the missing ones
from the log first. The log is the truth; the hub only makes it arrive sooner.

Producers never wait on a client: :meth:`EventHub.deliver` only appends to each
subscriber's bounded buffer. A subscriber whose buffer would overflow is marked and its
buffer dropped; the stream then tells its client the last id it passed and closes, and
the client resumes from the log with that id.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from autonomos.config import Settings
from autonomos.events.log import Event, EventLog, TypeFilter
from autonomos.events.stream import RedisEventStream

log = logging.getLogger("autonomos.events.hub")

__all__ = ["EventHub", "Frame", "Overflow", "Subscription"]

PAGE = 500  # events per read of the log (replay, backfill, polling)


@dataclass(frozen=True, slots=True)
class Frame:
    """One event, encoded once for every client it goes to."""

    id: int
    type: str
    json: str  # the event object of the API (a WebSocket message)
    sse: bytes  # its Server-Sent Events frame

    @classmethod
    def of(cls, event: Event) -> Frame:
        data = event.model_dump_json()
        sse = f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n".encode()
        return cls(event.id, event.type, data, sse)


class Overflow(Exception):
    """A subscriber fell more than its buffer behind; ``last_id`` is the last id it passed."""

    def __init__(self, last_id: int) -> None:
        super().__init__(f"the client fell behind after event {last_id}")
        self.last_id = last_id


class Subscription:
    """One live client's view of its tenant's log: every event after ``after`` that
    ``types`` matches, once each, in id order. Built by :meth:`EventHub.subscribe`."""

    def __init__(
        self,
        event_log: EventLog,
        tenant_id: uuid.UUID,
        types: TypeFilter | None,
        buffer: int,
    ) -> None:
        self._log, self.tenant_id, self.types = event_log, tenant_id, types
        self._buffer = buffer
        self.last_id = 0  # every id up to this one was handed out or filtered out
        self._replay_to: int | None = None  # replaying the log up to this id
        self._lost_live = False  # the buffer overflowed while replaying: replay further
        self._queue: deque[Frame] = deque()
        self._wake = asyncio.Event()
        self.overflowed = asyncio.Event()

    def offer(self, frames: Sequence[Frame]) -> None:
        """Buffer live events (never waits; called by the hub for every delivery)."""
        if self.overflowed.is_set():
            return
        if len(self._queue) + len(frames) > self._buffer:
            self._queue.clear()
            if self._replay_to is not None:  # the log has them: replay further instead
                self._lost_live = True
                return
            self.overflowed.set()
            self._wake.set()
            return
        self._queue.extend(frames)
        self._wake.set()

    async def next(self, wait_s: float) -> list[Frame]:
        """The next events for the client, in id order; ``[]`` when none came within
        ``wait_s`` seconds. Raises :class:`Overflow` once the client fell behind."""
        if self.overflowed.is_set():
            raise Overflow(self.last_id)
        while self._replay_to is not None:
            page = await self._page(self._replay_to)
            if self._replay_to is None and self._lost_live:
                self._lost_live = False
                self._replay_to = await self._log.last_id(self.tenant_id)
                if self._replay_to <= self.last_id:
                    self._replay_to = None
            if page:
                return page
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            if self.overflowed.is_set():
                raise Overflow(self.last_id)
            out = await self._take()
            if out:
                return out
            if not self._queue:
                self._wake.clear()
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                try:
                    async with asyncio.timeout(remaining):
                        await self._wake.wait()
                except TimeoutError:
                    return []

    async def _take(self) -> list[Frame]:
        """What the buffer holds, in sequence: repeats dropped, gaps read from the log."""
        out: list[Frame] = []
        while self._queue and not self.overflowed.is_set():
            frame = self._queue[0]
            if frame.id <= self.last_id:
                self._queue.popleft()
            elif frame.id > self.last_id + 1:  # missed (another process's, a lost message)
                while self.last_id < frame.id - 1:
                    out.extend(await self._page(frame.id - 1))
            else:
                self._queue.popleft()
                self.last_id = frame.id
                if self.types is None or self.types.matches(frame.type):
                    out.append(frame)
        return out

    async def _page(self, upto: int) -> list[Frame]:
        """The next page of matching events in ``(last_id, upto]`` from the log; moves
        ``last_id`` past what it covered (and ends the replay when it reaches ``upto``)."""
        events = await self._log.read(
            self.tenant_id, after=self.last_id, upto=upto, types=self.types, limit=PAGE
        )
        if len(events) < PAGE:
            self.last_id = upto
            if self._replay_to is not None and upto >= self._replay_to:
                self._replay_to = None
        else:
            self.last_id = events[-1].id
        return [Frame.of(e) for e in events]


class EventHub:
    """Hands each tenant's live events to the subscribers this process has."""

    def __init__(
        self,
        event_log: EventLog,
        *,
        buffer: int = 1000,
        poll_s: float = 0.5,
    ) -> None:
        self.log, self.buffer, self.poll_s = event_log, buffer, poll_s
        self.stream: RedisEventStream | None = None  # followed by start()
        self._subscribers: dict[uuid.UUID, set[Subscription]] = {}
        self._high: dict[uuid.UUID, int] = {}  # per tenant: the newest id delivered here
        self._tasks: list[asyncio.Task[None]] = []
        event_log.listen(self.publish, first=True)

    @classmethod
    def from_settings(cls, settings: Settings, event_log: EventLog) -> EventHub:
        """The hub of an API process, fed by ``event_log`` (this process's events) and by
        its Redis stream when it has one (everyone else's), else by polling the log."""
        redis = event_log.stream is not None
        hub = cls(
            event_log,
            buffer=settings.event_buffer,
            poll_s=settings.event_poll_s * (10 if redis else 1),
        )
        hub.stream = event_log.stream
        return hub

    # -- in: the process's own events, Redis Streams, the poller ------------------------

    async def publish(self, tenant_id: uuid.UUID, events: Sequence[Event]) -> None:
        """The event log's fan-out (an ``async`` :data:`~autonomos.events.log.Fanout`)."""
        self.deliver(tenant_id, events)

    def deliver_json(self, tenant_id: uuid.UUID, items: list[dict[str, Any]]) -> None:
        """:meth:`deliver` for the JSON objects of events (what the Redis reader gets)."""
        if not self._subscribers.get(tenant_id):
            return
        try:
            events = [Event.model_validate(item) for item in items]
        except ValidationError:
            log.warning("tenant %s: skipped a malformed batch of live events", tenant_id)
            return
        self.deliver(tenant_id, events)

    def deliver(self, tenant_id: uuid.UUID, events: Iterable[Event]) -> None:
        """Buffer ``events`` for the tenant's subscribers; never waits, never raises for
        a slow one. Ids this hub delivered already are skipped."""
        subscribers = self._subscribers.get(tenant_id)
        if not subscribers:
            return
        high = self._high.get(tenant_id, 0)
        frames = [Frame.of(e) for e in sorted(events, key=lambda e: e.id) if e.id > high]
        if not frames:
            return
        self._high[tenant_id] = frames[-1].id
        for subscriber in list(subscribers):
            subscriber.offer(frames)

    async def poll(self) -> None:
        """Deliver what the log holds beyond what this hub delivered, for every tenant
        with subscribers (events numbered by processes whose fan-out does not reach
        here)."""
        for tenant_id in list(self._subscribers):
            high = self._high.get(tenant_id)
            if high is None:
                continue
            last = await self.log.last_id(tenant_id)
            while high < last and self._subscribers.get(tenant_id):
                events = await self.log.read(tenant_id, after=high, upto=last, limit=PAGE)
                self.deliver(tenant_id, events)
                high = events[-1].id if len(events) == PAGE else last
                self._high[tenant_id] = max(self._high.get(tenant_id, 0), high)

    # -- out: subscribers ----------------------------------------------------------------

    @asynccontextmanager
    async def subscribe(
        self,
        tenant_id: uuid.UUID,
        *,
        after: int | None = None,
        types: TypeFilter | None = None,
    ) -> AsyncIterator[Subscription]:
        """A subscription to the tenant's events after id ``after`` (replayed from the
        log first), or to new events only when ``after`` is None. ``ValueError`` when
        ``after`` is beyond the tenant's newest event (an id from another log)."""
        sub = Subscription(self.log, tenant_id, types, self.buffer)
        # registered before the log is asked: an event numbered after that answer is
        # delivered to it, one numbered before is in the log
        self._subscribers.setdefault(tenant_id, set()).add(sub)
        try:
            last = await self.log.last_id(tenant_id)
            if after is not None and after > last:
                raise ValueError(
                    f"after={after} is beyond this tenant's newest event ({last}); "
                    "start without it to follow new events"
                )
            self._high.setdefault(tenant_id, last)
            sub.last_id = last if after is None else after
            if sub.last_id < last:
                sub._replay_to = last
            yield sub
        finally:
            subscribers = self._subscribers.get(tenant_id)
            if subscribers is not None:
                subscribers.discard(sub)
                if not subscribers:
                    del self._subscribers[tenant_id]
                    self._high.pop(tenant_id, None)

    def subscribers(self, tenant_id: uuid.UUID | None = None) -> int:
        if tenant_id is not None:
            return len(self._subscribers.get(tenant_id, ()))
        return sum(len(s) for s in self._subscribers.values())

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Follow the Redis stream (when there is one) and poll the log every ``poll_s``
        seconds, in the background."""
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._poll_forever()))
        if self.stream is not None:
            follow = self.stream.follow(self.deliver_json, reconnected=self.poll)
            self._tasks.append(loop.create_task(follow))

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("polling the event log failed")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
