"""Who is calling, from a verified access token and the user's *current* state.

An access token names its user, tenant and session (``sid``: the refresh-token family of
the login). Its role claim does not authorise (it only has to be a role): each request
takes the role, the active flag and whether the session is still open from the database,
through a small per-process cache. A change made through this process
(``forget_user`` / ``forget_session`` once committed) applies to the next request; other
processes follow within ``ttl_s`` (``auth_state_cache_s``): that is the staleness bound of
a demotion, deactivation, logout or renamed user made through another replica.

The cache keeps ``GET /auth/me`` cheap: a hit is one dict lookup, no thread hop and no
query, and it carries the user's profile too (``UserState``), so that route opens no
database session at all. A load that raced a change (it started before the change was
forgotten) is used for its own request but never cached.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select

from autonomos.auth.errors import AuthError
from autonomos.auth.tokens import AccessClaims, TokenError
from autonomos.store.models import RefreshToken, Role, User
from autonomos.store.session import Database

log = logging.getLogger("autonomos.auth")
_MAX_ENTRIES = 10_000
_ROLES = frozenset(r.value for r in Role)


@dataclass(frozen=True)
class UserState:
    """What a request may need of an active user with an open session, as last read."""

    role: Role
    email: str
    full_name: str
    created_at: datetime


@dataclass(frozen=True)
class Principal:
    """The caller: user, tenant, current role, and the login session the token belongs to.

    ``state`` is the user as read at most ``auth_state_cache_s`` ago (the role above is
    its role): enough for ``GET /auth/me`` without a query.
    """

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: Role
    session_id: uuid.UUID
    state: UserState


class UserStates:
    """Per-process, short-lived cache of (user, session) -> current role, or no access."""

    def __init__(self, db: Database, ttl_s: float, max_entries: int = _MAX_ENTRIES) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[uuid.UUID, uuid.UUID], tuple[float, UserState | None]] = (
            OrderedDict()
        )
        self._generation = 0
        self._loading: dict[tuple[uuid.UUID, uuid.UUID], asyncio.Future[UserState | None]] = {}

    async def principal(self, claims: AccessClaims) -> Principal:
        """The caller of a verified token; ``AuthError`` if they may no longer act."""
        if claims.sid is None:
            raise TokenError("token has no session; log in again")
        if claims.role not in _ROLES:  # only informative, yet one we could have issued
            raise TokenError("invalid role claim")
        user_id, tenant_id, session_id = claims.ids
        assert session_id is not None  # sid checked above
        state = await self._state(tenant_id, user_id, session_id)
        if state is None:
            raise AuthError("session ended or account disabled; log in again")
        return Principal(user_id, tenant_id, state.role, session_id, state)

    async def _state(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, session_id: uuid.UUID
    ) -> UserState | None:
        key = (user_id, session_id)
        hit = self._entries.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            if hit[0] - now < self.ttl_s / 2 and key not in self._loading:
                # Refresh ahead: a user who keeps calling never waits for the query (it
                # stalled all their in-flight requests once per ttl_s: /auth/me's p99).
                # The answer is still one read less than ttl_s ago.
                self._start_load(key, tenant_id)
            return hit[1]
        if self.ttl_s <= 0:  # "read on every request": no sharing of loads either
            return await self._load(tenant_id, user_id, session_id)
        # One load per key at a time: when an entry expires under load, every request of
        # that user misses at once, and each would otherwise send its own query (a burst
        # of aiosqlite thread hops every ttl_s, seen as the p90/p99 of /auth/me).
        pending = self._loading.get(key) or self._start_load(key, tenant_id)
        # shielded: one caller that gives up (a client gone) does not cancel the others'
        return await asyncio.shield(pending)

    def _start_load(
        self, key: tuple[uuid.UUID, uuid.UUID], tenant_id: uuid.UUID
    ) -> asyncio.Future[UserState | None]:
        pending = asyncio.ensure_future(self._load_and_keep(key, tenant_id))
        pending.add_done_callback(self._loaded)
        self._loading[key] = pending
        return pending

    async def _load_and_keep(
        self, key: tuple[uuid.UUID, uuid.UUID], tenant_id: uuid.UUID
    ) -> UserState | None:
        generation = self._generation
        now = time.monotonic()
        try:
            state = await self._load(tenant_id, *key)
        finally:
            if self._loading.get(key) is asyncio.current_task():
                del self._loading[key]
        if generation == self._generation:  # no change was forgotten meanwhile
            self._entries[key] = (now + self.ttl_s, state)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return state

    @staticmethod
    def _loaded(task: asyncio.Future[UserState | None]) -> None:
        # retrieved, even when nobody waits for it (a refresh ahead, or every waiter
        # gave up): said in the log, and the entry then expires as it would have
        error = None if task.cancelled() else task.exception()
        if error is not None:
            log.warning("loading a user's state failed: %s", type(error).__name__)

    async def _load(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, session_id: uuid.UUID
    ) -> UserState | None:
        open_session = exists().where(
            RefreshToken.family_id == session_id,
            RefreshToken.user_id == User.id,
            RefreshToken.revoked_at.is_(None),
        )
        async with self.db.tenant_session(tenant_id) as s:
            row = (
                await s.execute(
                    select(
                        User.is_active,
                        open_session,
                        User.role,
                        User.email,
                        User.full_name,
                        User.created_at,
                    ).where(User.id == user_id)
                )
            ).first()
        if row is None or not row[0] or not row[1]:
            return None
        return UserState(Role(row[2]), row[3], row[4], row[5])

    def forget_user(self, user_id: uuid.UUID) -> None:
        """Call once a change to the user (role, active flag, name) has committed."""
        self._forget(lambda key: key[0] == user_id)

    def forget_session(self, session_id: uuid.UUID) -> None:
        """Call once a session (refresh-token family) was revoked and committed."""
        self._forget(lambda key: key[1] == session_id)

    def _forget(self, match: Callable[[tuple[uuid.UUID, uuid.UUID]], bool]) -> None:
        self._generation += 1
        for key in [k for k in self._entries if match(k)]:
            del self._entries[key]
        for key in [k for k in self._loading if match(k)]:
            del self._loading[key]  # its waiters keep it; later requests load afresh
