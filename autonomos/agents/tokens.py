"""Third-party agent tokens: shown once, stored as a SHA-256.

A token is ``aat.<tenant uuid hex>.<agent uuid hex>.<secret>`` with 256 random bits of
secret. The tenant part lets the platform open that tenant's session (and so pass
row-level security) before it looks the agent up, as refresh tokens do; the agent part
names the one row to compare against. Only ``sha256(token)`` is kept, compared in
constant time: like refresh tokens (``auth.service``) and unlike passwords, the secret
is random and long, so a slow password hash (Argon2) would add cost without adding
safety.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from autonomos.agents.errors import AgentAuthError

PREFIX = "aat"
_INVALID = "invalid agent token"


def issue(tenant_id: uuid.UUID, agent_id: uuid.UUID) -> str:
    return f"{PREFIX}.{tenant_id.hex}.{agent_id.hex}.{secrets.token_urlsafe(32)}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hint(token: str) -> str:
    """What may be shown later to tell tokens apart: the last 4 characters."""
    return f"…{token[-4:]}"


def parse(token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """(tenant id, agent id) named by a well-formed token; AgentAuthError otherwise."""
    parts = token.split(".") if isinstance(token, str) and len(token) < 512 else []
    if len(parts) != 4 or parts[0] != PREFIX or len(parts[3]) < 32:
        raise AgentAuthError(_INVALID)
    try:
        return uuid.UUID(hex=parts[1]), uuid.UUID(hex=parts[2])
    except ValueError:
        raise AgentAuthError(_INVALID) from None


def matches(token: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(digest(token), stored_hash)
