"""Argon2id password hashing.

Argon2id is memory-hard, so each hash costs tens of milliseconds of CPU and
~19 MiB of RAM by design. That is why every hash/verify here runs in a worker
thread (never on the event loop) behind a capacity limiter that bounds how
much memory a login burst can pin.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
import anyio.to_thread
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["OWASP_ARGON2ID_MINIMUMS", "Argon2Params", "PasswordService"]

_T = TypeVar("_T")

#: OWASP Password Storage Cheat Sheet, Argon2id: equivalent minimum
#: configurations as (memory_cost_kib, time_cost), all with parallelism=1.
#: Less memory is only acceptable when paid for with more iterations.
OWASP_ARGON2ID_MINIMUMS: tuple[tuple[int, int], ...] = (
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
)


@dataclass(frozen=True)
class Argon2Params:
    """Argon2id cost parameters; defaults are OWASP's baseline (m=19 MiB, t=2, p=1).

    Validation happens at construction so a misconfigured deployment fails at
    startup instead of silently storing weak hashes.
    """

    time_cost: int = 2
    memory_cost_kib: int = 19_456
    parallelism: int = 1

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` if the parameters are below every OWASP minimum."""
        for name in ("time_cost", "memory_cost_kib", "parallelism"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"Argon2 {name} must be an int")
        if self.parallelism < 1:
            raise ValueError("Argon2 parallelism must be >= 1")
        if not any(
            self.memory_cost_kib >= m and self.time_cost >= t for m, t in OWASP_ARGON2ID_MINIMUMS
        ):
            raise ValueError(
                "Argon2id parameters below OWASP minimum "
                f"(m={self.memory_cost_kib} KiB, t={self.time_cost}); "
                "use e.g. m>=19456 KiB with t>=2"
            )


class PasswordService:
    """Hashes and verifies passwords with Argon2id, off the event loop.

    ``limiter`` bounds concurrent hashes: each one allocates ``memory_cost_kib``
    of RAM, so an unbounded burst of logins could exhaust memory.
    """

    def __init__(
        self,
        params: Argon2Params | None = None,
        *,
        limiter: anyio.CapacityLimiter | None = None,
    ) -> None:
        self.params = params if params is not None else Argon2Params()
        self.params.validate()
        self._hasher = PasswordHasher(
            time_cost=self.params.time_cost,
            memory_cost=self.params.memory_cost_kib,
            parallelism=self.params.parallelism,
            type=Type.ID,
        )
        self._limiter = limiter
        # Computed once, eagerly, with the current params: dummy_verify must
        # cost the same as a real verify from the very first unknown-user login,
        # otherwise the first probe would be distinguishable by timing. This is
        # one blocking hash at construction, so build the service at startup.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(32))

    async def _run(self, fn: Callable[[], _T]) -> _T:
        return await anyio.to_thread.run_sync(fn, limiter=self._limiter)

    async def hash(self, password: str) -> str:
        """Return an encoded Argon2id hash (PHC string, includes salt and params)."""
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        try:
            password.encode("utf-8")
        except UnicodeError as exc:
            raise ValueError("password is not valid UTF-8 text") from exc
        return await self._run(lambda: self._hasher.hash(password))

    def _verify_sync(self, stored_hash: str, password: str) -> tuple[bool, str | None]:
        try:
            self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError, UnicodeError, TypeError):
            # Mismatch and corrupt/foreign hashes look identical to callers:
            # both are "wrong credentials", and neither should become a 500.
            return False, None
        try:
            needs_rehash = self._hasher.check_needs_rehash(stored_hash)
        except ValueError:  # includes InvalidHashError
            needs_rehash = True
        if needs_rehash:
            # Done here, while we hold the plaintext, so params upgrades
            # propagate to users as they log in.
            return True, self._hasher.hash(password)
        return True, None

    async def verify(self, stored_hash: str, password: str) -> tuple[bool, str | None]:
        """Check ``password`` against ``stored_hash``.

        Returns ``(ok, new_hash)``; ``new_hash`` is set only when the password
        matched and the stored hash used outdated parameters, so the caller
        should persist it. Never raises for bad or corrupt input.
        """
        if not isinstance(stored_hash, str) or not isinstance(password, str):
            return False, None
        return await self._run(lambda: self._verify_sync(stored_hash, password))

    def _dummy_verify_sync(self, password: str) -> None:
        try:
            self._hasher.verify(self._dummy_hash, password)
        except VerificationError:
            pass

    async def dummy_verify(self) -> None:
        """Spend the time of one real verify, for logins with an unknown user.

        Without it, "no such user" returns measurably faster than "wrong
        password", which lets attackers enumerate accounts.
        """
        password = secrets.token_urlsafe(16)
        await self._run(lambda: self._dummy_verify_sync(password))
