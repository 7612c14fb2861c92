"""The login throttle on the real databases, with a clock the test moves."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from autonomos.auth.errors import LoginThrottled
from autonomos.auth.throttle import Attempt, LoginThrottle, throttle_key
from autonomos.config import Settings
from autonomos.store.base import utcnow
from autonomos.store.session import Database


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def db(settings: Settings, api: object) -> AsyncIterator[Database]:
    """The migrated database (the ``api`` fixture migrates it)."""
    database = Database(settings.app_database_url)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(max_failures=3, delay_s=10, max_delay_s=40, clock=clock)


def _key() -> str:
    return throttle_key(f"{uuid.uuid4().hex}@example.com", "192.0.2.1")


async def _try(db: Database, throttle: LoginThrottle, key: str) -> Attempt:
    async with db.global_session() as s:
        return await throttle.reserve(s, key)


async def _fail(db: Database, throttle: LoginThrottle, key: str) -> int:
    attempt = await _try(db, throttle, key)
    async with db.global_session() as s:
        await throttle.failed(s, attempt)
    return attempt.number


async def _wait(db: Database, throttle: LoginThrottle, key: str) -> int:
    with pytest.raises(LoginThrottled) as refused:
        await _try(db, throttle, key)
    return refused.value.retry_after_s


async def test_waits_double_up_to_the_maximum(
    db: Database, throttle: LoginThrottle, clock: Clock
) -> None:
    key = _key()
    assert [await _fail(db, throttle, key) for _ in range(3)] == [1, 2, 3]
    assert await _wait(db, throttle, key) == 10
    for expected_wait in (20, 40, 40):  # one attempt after each wait, then a longer wait
        clock.advance(await _wait(db, throttle, key))
        await _fail(db, throttle, key)
        assert await _wait(db, throttle, key) == expected_wait


async def test_one_attempt_at_a_time_past_the_limit(
    db: Database, throttle: LoginThrottle, clock: Clock
) -> None:
    key = _key()
    for _ in range(3):
        await _fail(db, throttle, key)
    clock.advance(10)
    in_flight = await _try(db, throttle, key)
    assert in_flight.number == 4
    assert await _wait(db, throttle, key) == 1  # while that one is being checked
    clock.advance(61)  # ...unless it never concluded (its process died)
    assert (await _try(db, throttle, key)).number == 5


async def test_success_and_quiet_time_start_afresh(
    db: Database, throttle: LoginThrottle, clock: Clock
) -> None:
    key = _key()
    await _fail(db, throttle, key)
    attempt = await _try(db, throttle, key)
    async with db.global_session() as s:
        await throttle.succeeded(s, attempt)
    assert await _fail(db, throttle, key) == 1
    await _fail(db, throttle, key)
    clock.advance(throttle.forget_after.total_seconds() + 1)
    assert await _fail(db, throttle, key) == 1


async def test_keys_are_independent(db: Database, throttle: LoginThrottle) -> None:
    email = f"{uuid.uuid4().hex}@example.com"
    here, there = throttle_key(email, "192.0.2.1"), throttle_key(email, "198.51.100.2")
    for _ in range(3):
        await _fail(db, throttle, here)
    await _wait(db, throttle, here)
    assert (await _try(db, throttle, there)).number == 1
