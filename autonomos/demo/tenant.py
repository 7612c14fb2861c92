"""The demo tenant that ``autonomos up`` creates, and how it is recognised.

Anyone can register a tenant named "Demo Corp", so the name proves nothing. The demo
tenant is the one the operator's ``up`` granted ``mock_sources/`` (``tenants.files_roots``,
written by the CLI only); a demo made by an older ``up`` is recognised by the admin
login that ``up`` saved in the data dir (0600), and then granted.
"""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path

from sqlalchemy import select

from autonomos.aam.edge import grant_root
from autonomos.auth.service import AuthService
from autonomos.config import Settings
from autonomos.connectors.edge.paths import real
from autonomos.store.models import LoginDirectory, Tenant
from autonomos.store.session import Database

DEMO_TENANT = "Demo Corp"
DEMO_EMAIL = "demo@example.com"
MOCK_SOURCES = Path(__file__).resolve().parents[2] / "mock_sources"


def credentials_file(settings: Settings) -> Path:
    return settings.data_dir / "demo_credentials.json"


async def ensure_demo_tenant(settings: Settings) -> uuid.UUID | None:
    """The demo tenant's id, created (with its admin) on first use; ``None`` when a
    tenant of that name exists that ``up`` did not create."""
    db = Database(settings.app_database_url)
    try:
        async with db.global_session() as s:
            tenant = await s.scalar(select(Tenant).where(Tenant.name == DEMO_TENANT))
        if tenant is None:
            password = secrets.token_urlsafe(12)
            auth = AuthService.from_settings(settings, db)
            tenant, _ = await auth.register(DEMO_TENANT, DEMO_EMAIL, password, "Demo Admin")
            path = credentials_file(settings)
            path.write_text(json.dumps({"email": DEMO_EMAIL, "password": password}))
            path.chmod(0o600)
        elif not await _made_by_up(settings, db, tenant):
            return None
        if MOCK_SOURCES.is_dir():
            await grant_root(settings, db, tenant.id, MOCK_SOURCES)
        return tenant.id
    finally:
        await db.dispose()


async def _made_by_up(settings: Settings, db: Database, tenant: Tenant) -> bool:
    if str(real(MOCK_SOURCES)) in (tenant.files_roots or []):
        return True
    path = credentials_file(settings)
    if not path.is_file():
        return False
    email = json.loads(path.read_text()).get("email", "")
    async with db.global_session() as s:
        entry = await s.get(LoginDirectory, email)
    return entry is not None and entry.tenant_id == tenant.id
