"""Registration, login, refresh-token rotation and logout.

Refresh tokens are opaque: ``rt.<tenant uuid hex>.<random>``. The tenant part lets the
service open a tenant session (and so pass row-level security) before it looks the
token up; only the token's SHA-256 is stored. Rotation is one conditional UPDATE, so of
two requests with one token exactly one rotates it; a rotated token presented again
means it leaked, so the whole family (every token descended from that login, which is
also the ``sid`` of its access tokens) is revoked.

Nothing here tells a caller whether an e-mail exists: self-registration of a taken
e-mail answers like a fresh one (the owner finds it in their audit log), and login runs
the same statements and one Argon2 check for known and unknown e-mails, throttled per
(e-mail, client address) by ``throttle.py``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.auth.errors import AuthError, LoginThrottled, RegistrationClosed
from autonomos.auth.keys import build_key_ring
from autonomos.auth.passwords import Argon2Params, PasswordService
from autonomos.auth.session_state import Principal, UserStates
from autonomos.auth.throttle import LoginThrottle, throttle_key
from autonomos.auth.tokens import KeyRing
from autonomos.config import Settings
from autonomos.store.audit import audit
from autonomos.store.base import utcnow
from autonomos.store.errors import Conflict
from autonomos.store.models import LoginDirectory, RefreshToken, Role, Tenant, User
from autonomos.store.session import Database

__all__ = [
    "AuthError",
    "AuthService",
    "EmailTaken",
    "LoginThrottled",
    "Principal",
    "RegistrationClosed",
    "TokenPair",
    "audit",
    "normalize_email",
]

log = logging.getLogger("autonomos.auth")


class EmailTaken(Conflict):
    """The e-mail already signs in to an account (said to administrators, never to
    self-registration)."""


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
        throttle: LoginThrottle,
        states: UserStates,
        allow_registration: bool = True,
    ) -> None:
        self.db = db
        self.passwords = passwords
        self.keys = keys
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s
        self.throttle = throttle
        self.states = states
        self.allow_registration = allow_registration

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
            throttle=LoginThrottle(
                settings.login_max_failures, settings.login_delay_s, settings.login_max_delay_s
            ),
            states=UserStates(db, settings.auth_state_cache_s),
            allow_registration=settings.allow_registration,
        )

    # -- tenants and users ------------------------------------------------------------

    async def create_tenant(
        self,
        tenant_name: str,
        email: str,
        password: str,
        full_name: str = "",
        *,
        unique_name: bool = False,
    ) -> tuple[Tenant, User]:
        """Create a tenant and its first admin in one transaction (operators: CLI, demo).

        Raises :class:`EmailTaken` when the e-mail already signs in somewhere, and with
        ``unique_name`` (an operator's guard against ambiguous ``--tenant NAME``; checked,
        not a database constraint) ``Conflict`` when the name is taken.
        """
        email = normalize_email(email)
        password_hash = await self.passwords.hash(password)
        tenant = Tenant(id=uuid.uuid4(), name=tenant_name.strip())
        if unique_name:
            async with self.db.global_session() as s:
                if await s.scalar(select(Tenant.id).where(Tenant.name == tenant.name).limit(1)):
                    raise Conflict(f"a tenant named {tenant.name!r} already exists")
        async with self.db.tenant_session(tenant.id) as s:
            s.add(tenant)
            await s.flush()  # before the login directory row that refers to it
            user = await self._add_user(s, email, password_hash, Role.ADMIN, full_name)
            await audit(s, "tenant.register", "tenant", tenant.id, actor_id=user.id)
        return tenant, user

    async def register(
        self, tenant_name: str, email: str, password: str, full_name: str = ""
    ) -> None:
        """Self-registration: the same outcome for the caller whether the e-mail is free.

        A free e-mail gets a new tenant and admin (the caller logs in next). A taken one
        creates nothing; its owner finds an ``auth.register_existing_email`` entry in
        their tenant's audit log. Both paths hash the password and write one transaction.
        """
        if not self.allow_registration:
            raise RegistrationClosed()
        try:
            await self.create_tenant(tenant_name, email, password, full_name)
        except EmailTaken:
            await self._tell_owner(normalize_email(email))

    async def _tell_owner(self, email: str) -> None:
        async with self.db.global_session() as s:
            entry = await s.get(LoginDirectory, email)
        if entry is None:  # the conflict was not this e-mail's: a bug, not bad input
            raise RuntimeError("registration hit an integrity error other than its e-mail")
        async with self.db.tenant_session(entry.tenant_id) as s:
            await audit(s, "auth.register_existing_email", "user", entry.user_id)
        log.warning(
            "tenant %s: a registration used the e-mail of user %s",
            entry.tenant_id,
            entry.user_id,
        )

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
            raise EmailTaken(f"the e-mail {email!r} is already registered") from None
        return user

    # -- login, refresh, logout -------------------------------------------------------

    async def login(
        self, email: str, password: str, client: str | None = None
    ) -> tuple[User, TokenPair]:
        """Check a password; ``client`` is the caller's address (the throttle's key).

        Known and unknown e-mails take the same path: reserve a throttle slot, read the
        directory, read a user (a random id in a random tenant for an unknown e-mail),
        one Argon2 verify (against a dummy hash when there is no active user), and one
        concluding transaction with the same statements. Failures are logged, successes
        audited.
        """
        email = normalize_email(email)
        async with self.db.global_session() as s:
            attempt = await self.throttle.reserve(s, throttle_key(email, client))
            entry = await s.get(LoginDirectory, email)
        tenant_id, user_id = (entry.tenant_id, entry.user_id) if entry else _nobody()
        async with self.db.tenant_session(tenant_id) as s:
            user = await s.get(User, user_id)
        ok, new_hash = False, None
        if user is not None and user.is_active:
            ok, new_hash = await self.passwords.verify(user.password_hash, password)
        else:
            await self.passwords.dummy_verify()
        async with self.db.tenant_session(tenant_id) as s:
            if not ok:
                await self.throttle.failed(s, attempt)
            else:
                assert user is not None
                await self.throttle.succeeded(s, attempt)
                if new_hash:
                    await s.execute(
                        update(User).where(User.id == user.id).values(password_hash=new_hash)
                    )
                pair = await self._issue(s, user, family_id=uuid.uuid4())
                await audit(s, "auth.login", "user", user.id, actor_id=user.id)
        if not ok or user is None:
            # the server log, not the audit table: one more INSERT for a known e-mail than
            # for an unknown one is a timing difference (measured: ~4 ms under load)
            log.info(
                "failed login #%d from %s for %s",
                attempt.number,
                client,
                f"user {user.id} of tenant {user.tenant_id}" if user else "an unknown e-mail",
            )
            raise AuthError("incorrect e-mail or password")
        return user, pair

    async def authenticate(self, token: str) -> Principal:
        """The caller of an access token, with their current role (``states``)."""
        return await self.states.principal(self.keys.decode(token))

    async def refresh(self, refresh_token: str) -> TokenPair:
        tenant_id = _parse_refresh(refresh_token)
        token_hash = _hash_token(refresh_token)
        now = utcnow()
        async with self.db.tenant_session(tenant_id) as s:
            claimed = (
                await s.execute(
                    update(RefreshToken)
                    .where(
                        RefreshToken.token_hash == token_hash,
                        RefreshToken.used_at.is_(None),
                        RefreshToken.revoked_at.is_(None),
                        RefreshToken.expires_at > now,
                    )
                    .values(used_at=now)
                    .returning(RefreshToken.user_id, RefreshToken.family_id)
                    .execution_options(synchronize_session=False)
                )
            ).first()
            if claimed is not None:  # this request, and only this one, rotates it
                user = await s.get(User, claimed.user_id)
                if user is None or not user.is_active:
                    raise AuthError("invalid refresh token")
                return await self._issue(s, user, family_id=claimed.family_id)
            row = await self._token_row(s, token_hash)
            reused = row.used_at is not None
            if reused:  # a rotated token again: it leaked
                await self._revoke_family(s, row.family_id, now)
                await audit(
                    s, "auth.refresh_reused", "user", row.user_id, family=str(row.family_id)
                )
                failure = "refresh token was already used; every session of it is revoked"
            elif row.revoked_at is not None:
                failure = "refresh token revoked"
            else:
                failure = "refresh token expired"
        if reused:  # committed: the family's access tokens stop here too
            self.states.forget_session(row.family_id)
        raise AuthError(failure)

    async def logout(self, refresh_token: str) -> None:
        """Revoke the token's family (this login on this device), access tokens included."""
        tenant_id = _parse_refresh(refresh_token)
        async with self.db.tenant_session(tenant_id) as s:
            row = await self._token_row(s, _hash_token(refresh_token))
            await self._revoke_family(s, row.family_id, utcnow())
            await audit(s, "auth.logout", "user", row.user_id, actor_id=row.user_id)
        self.states.forget_session(row.family_id)

    async def _token_row(self, s: AsyncSession, token_hash: str) -> RefreshToken:
        row = await s.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
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
            sub=str(user.id),
            tid=str(user.tenant_id),
            role=user.role.value,
            ttl_s=self.access_ttl_s,
            sid=str(family_id),
        )
        return TokenPair(access, refresh, self.access_ttl_s)


def _nobody() -> tuple[uuid.UUID, uuid.UUID]:
    """A tenant and user id that exist nowhere: an unknown e-mail's lookups cost the same."""
    return uuid.uuid4(), uuid.uuid4()
