"""Login throttling per (e-mail, client address), counted atomically in SQL.

Every attempt first *reserves* its place with one conditional upsert on the
``login_throttle`` row of its key: the row's counter goes up only while the key may still
try, and the statement returns the new count or nothing. SQLite serialises writers and
Postgres re-checks the condition after the row lock, so however many attempts arrive at
once, at most ``max_failures`` (then one at a time) reach the password check. Counting
before the check also means an attempt in flight already counts as a failure; a success
deletes the row.

Past the limit each attempt waits: ``delay_s``, doubling with each further failure up to
``max_delay_s``, and then only one attempt at a time. Keying on the client address as
well as on the e-mail means a stranger who fails from elsewhere slows down themselves,
not the owner. The key is a hash of the e-mail *as typed*, so unknown e-mails are counted,
delayed and answered exactly like known ones and the table holds no e-mail in clear.

Current restriction: an attacker with many addresses gets ``max_failures`` guesses per
address and e-mail before the delays start; behind a proxy every client has the proxy's
address, so the delay then applies per e-mail.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.auth.errors import LoginThrottled
from autonomos.store.base import utcnow
from autonomos.store.models import LoginThrottle as Row

_UPSERTS: dict[str, Callable[..., Any]] = {"postgresql": pg_insert, "sqlite": sqlite_insert}
# An attempt reserved but never concluded (its process died) stops blocking after this.
_STALE_IN_FLIGHT = timedelta(seconds=60)
_MAX_DOUBLINGS = 30
_NO_SYNC = {"synchronize_session": False}  # no throttle rows live in the session


@dataclass(frozen=True)
class Attempt:
    """A reserved login attempt: its key and how many failures it makes if it fails."""

    key: str
    number: int


def throttle_key(email: str, client: str | None) -> str:
    return hashlib.sha256(f"{email}\0{client or '-'}".encode()).hexdigest()


class LoginThrottle:
    def __init__(
        self,
        max_failures: int,
        delay_s: int,
        max_delay_s: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.max_failures = max_failures
        self.delay_s = delay_s
        self.max_delay_s = max(max_delay_s, delay_s)
        # a quiet key starts afresh after this (longer than any wait, so waiting is no reset)
        self.forget_after = timedelta(seconds=max(3600, 2 * self.max_delay_s))
        self.clock = clock

    def delay(self, number: int) -> int:
        """Seconds to wait after failure ``number`` (0 below the limit)."""
        if number < self.max_failures:
            return 0
        doublings = min(number - self.max_failures, _MAX_DOUBLINGS)
        return int(min(self.max_delay_s, self.delay_s * 2**doublings))

    async def reserve(self, s: AsyncSession, key: str) -> Attempt:
        """Count one attempt for ``key``, or raise :class:`LoginThrottled` if it must wait."""
        now = self.clock()
        forget_before = now - self.forget_after
        insert = _UPSERTS[s.get_bind().dialect.name]
        stmt = insert(Row).values(key=key, failures=1, blocked_until=None, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Row.key],
            set_={
                "failures": case((Row.updated_at <= forget_before, 1), else_=Row.failures + 1),
                "blocked_until": None,  # past the limit: the one attempt in flight
                "updated_at": now,
            },
            where=or_(
                Row.failures < self.max_failures,
                Row.blocked_until <= now,
                and_(Row.blocked_until.is_(None), Row.updated_at <= now - _STALE_IN_FLIGHT),
                Row.updated_at <= forget_before,
            ),
        ).returning(Row.failures)
        number = (await s.execute(stmt)).scalar()
        if number is not None:
            return Attempt(key, int(number))
        until = await s.scalar(select(Row.blocked_until).where(Row.key == key))
        wait = (until - now).total_seconds() if until is not None else 1.0
        raise LoginThrottled(max(1, math.ceil(wait)))

    async def failed(self, s: AsyncSession, attempt: Attempt) -> None:
        """The attempt's password was wrong: start its wait if it passed the limit.

        Runs the same statements below and past the limit, for known and unknown e-mails,
        so this step's cost tells nothing either; old keys are purged on the way.
        """
        now = self.clock()
        wait = self.delay(attempt.number)
        # below the limit only the time moves: an earlier attempt concluding late must
        # not lift the wait a later one started
        blocked = {"blocked_until": now + timedelta(seconds=wait)} if wait else {}
        await s.execute(
            update(Row).where(Row.key == attempt.key).values(updated_at=now, **blocked),
            execution_options=_NO_SYNC,
        )
        await s.execute(
            delete(Row).where(Row.updated_at <= now - self.forget_after),
            execution_options=_NO_SYNC,
        )

    async def succeeded(self, s: AsyncSession, attempt: Attempt) -> None:
        await s.execute(delete(Row).where(Row.key == attempt.key), execution_options=_NO_SYNC)
