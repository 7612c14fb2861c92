"""Registration, login, refresh-token rotation and logout.

Refresh tokens are opaque: ``rt.<tenant uuid hex>.<random>``. The tenant part lets the
service open a tenant session (and so pass row-level security) before it looks the
token up; only the token's SHA-256 is stored. A rotated token presented again means it
was stolen, so the whole family (every token descended from that login) is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.auth.keys import build_key_ring
from autonomos.auth.passwords import Argon2Params, PasswordService
from autonomos.auth.tokens import KeyRing
from autonomos.config import Settings
from autonomos.store.audit import audit
from autonomos.store.base import utcnow
from autonomos.store.errors import Conflict
from autonomos.store.models import LoginDirectory, RefreshToken, Role, Tenant, User
from autonomos.store.session import Database


class AuthError(Exception):
    """Credentials or token refused. The message is safe to show to the client."""


class LoginLocked(AuthError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too many failed logins; try again later")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _parse_refresh(token: str) -> uuid.UUID:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "rt":
        raise AuthError("invalid refresh token")
    try:
        return uuid.UUID(hex=parts[1])
    except ValueError:
        raise AuthError("invalid refresh token") from None


class AuthService:
    def __init__(
        self,
        db: Database,
        passwords: PasswordService,
        keys: KeyRing,
        *,
        access_ttl_s: int,
        refresh_ttl_s: int,
        max_failures: int,
        lockout_s: int,
    ) -> None:
        self.db = db
        self.passwords = passwords
        self.keys = keys
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s
        self.max_failures = max_failures
        self.lockout_s = lockout_s

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> AuthService:
        passwords = PasswordService(
            Argon2Params(
                time_cost=settings.argon2_time_cost,
                memory_cost_kib=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
            ),
            # Each hash holds ~memory_cost of RAM: bound concurrent hashes per process.
            limiter=anyio.CapacityLimiter(4),
        )
        return cls(
            db,
            passwords,
            build_key_ring(settings),
            access_ttl_s=settings.access_token_ttl_s,
            refresh_ttl_s=settings.refresh_token_ttl_s,
            max_failures=settings.login_max_failures,
            lockout_s=settings.login_lockout_s,
        )

    # -- tenants and users ------------------------------------------------------------

    async def register(
        self, tenant_name: str, email: str, password: str, full_name: str = ""
    ) -> tuple[Tenant, User]:
        """Create a tenant and its first admin."""
        email = normalize_email(email)
        password_hash = await self.passwords.hash(password)
        tenant = Tenant(id=uuid.uuid4(), name=tenant_name.strip())
        try:
            async with self.db.global_session() as s:
                s.add(tenant)
            async with self.db.tenant_session(tenant.id) as s:
                user = await self._add_user(s, email, password_hash, Role.ADMIN, full_name)
                await audit(s, "tenant.register", "tenant", tenant.id, actor_id=user.id)
        except Conflict:
            async with self.db.global_session() as s:  # undo the half-made tenant
                await s.delete(await s.get(Tenant, tenant.id))
            raise
        except IntegrityError:
            raise Conflict(f"a tenant named {tenant.name!r} already exists") from None
        return tenant, user

    async def create_user(
        self,
        session: AsyncSession,
        email: str,
        password: str,
        role: Role,
        full_name: str = "",
    ) -> User:
        """Create a user in the session's tenant."""
        password_hash = await self.passwords.hash(password)
        return await self._add_user(session, normalize_email(email), password_hash, role, full_name)

    async def _add_user(
        self, s: AsyncSession, email: str, password_hash: str, role: Role, full_name: str
    ) -> User:
        tenant_id = s.info["tenant_id"]
        user = User(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            email=email,
            full_name=full_name,
            password_hash=password_hash,
            role=role,
        )
        s.add(LoginDirectory(email=email, tenant_id=tenant_id, user_id=user.id))
        s.add(user)
        try:
            await s.flush()
        except IntegrityError:
            raise Conflict(f"the e-mail {email!r} is already registered") from None
        return user

    # -- login, refresh, logout -------------------------------------------------------

    async def login(self, email: str, password: str) -> tuple[User, TokenPair]:
        email = normalize_email(email)
        async with self.db.global_session() as s:
            entry = await s.get(LoginDirectory, email)
        if entry is None:
            await self.passwords.dummy_verify()  # same cost as a real check: no enumeration
            raise AuthError("incorrect e-mail or password")
        async with self.db.tenant_session(entry.tenant_id) as s:
            user = await s.get(User, entry.user_id, with_for_update=True)
            if user is None or not user.is_active:
                await self.passwords.dummy_verify()
                raise AuthError("incorrect e-mail or password")
            now = utcnow()
            if user.locked_until and user.locked_until > now:
                raise LoginLocked(int((user.locked_until - now).total_seconds()) + 1)
            ok, new_hash = await self.passwords.verify(user.password_hash, password)
            if not ok:
                user.failed_logins += 1
                locked = user.failed_logins >= self.max_failures
                if locked:
                    user.failed_logins = 0
                    user.locked_until = now + timedelta(seconds=self.lockout_s)
                await audit(s, "auth.login_failed", "user", user.id, locked=locked)
            else:
                user.failed_logins = 0
                user.locked_until = None
                if new_hash:
                    user.password_hash = new_hash
                pair = await self._issue(s, user, family_id=uuid.uuid4())
                await audit(s, "auth.login", "user", user.id, actor_id=user.id)
        if not ok:
            raise AuthError("incorrect e-mail or password")
        return user, pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        tenant_id = _parse_refresh(refresh_token)
        async with self.db.tenant_session(tenant_id) as s:
            row = await self._token_row(s, refresh_token)
            now = utcnow()
            if row.used_at is not None:  # a rotated token again: it leaked
                await self._revoke_family(s, row.family_id, now)
                await audit(
                    s, "auth.refresh_reused", "user", row.user_id, family=str(row.family_id)
                )
                failure = "refresh token was already used; every session of it is revoked"
            elif row.revoked_at is not None:
                failure = "refresh token revoked"
            elif row.expires_at <= now:
                failure = "refresh token expired"
            else:
                user = await s.get(User, row.user_id)
                if user is None or not user.is_active:
                    raise AuthError("invalid refresh token")
                row.used_at = now
                return await self._issue(s, user, family_id=row.family_id)
        raise AuthError(failure)  # after the commit, so the revocation stays

    async def logout(self, refresh_token: str) -> None:
        """Revoke the token's family (this login on this device)."""
        tenant_id = _parse_refresh(refresh_token)
        async with self.db.tenant_session(tenant_id) as s:
            row = await self._token_row(s, refresh_token)
            await self._revoke_family(s, row.family_id, utcnow())
            await audit(s, "auth.logout", "user", row.user_id, actor_id=row.user_id)

    async def _token_row(self, s: AsyncSession, token: str) -> RefreshToken:
        row = await s.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == _hash_token(token))
        )
        if row is None:
            raise AuthError("invalid refresh token")
        return row

    async def _revoke_family(self, s: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
        await s.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def _issue(self, s: AsyncSession, user: User, family_id: uuid.UUID) -> TokenPair:
        refresh = f"rt.{user.tenant_id.hex}.{secrets.token_urlsafe(32)}"
        s.add(
            RefreshToken(
                user_id=user.id,
                family_id=family_id,
                token_hash=_hash_token(refresh),
                expires_at=utcnow() + timedelta(seconds=self.refresh_ttl_s),
            )
        )
        access = self.keys.issue(
            sub=str(user.id), tid=str(user.tenant_id), role=user.role.value, ttl_s=self.access_ttl_s
        )
        return TokenPair(access, refresh, self.access_ttl_s)
