"""The demo tenant that ``autonomos up`` creates, and how it is recognised.

Anyone can register a tenant named "Demo Corp", so the name proves nothing: the demo
tenant is the one whose admin login ``up`` created and saved in the data dir (0600). Only
it is granted ``mock_sources/`` (``tenants.files_roots``, written by the CLI only).
"""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path

from autonomos.aam.edge import grant_root
from autonomos.auth.service import AuthService, EmailTaken
from autonomos.common.private_files import write_private
from autonomos.config import Settings
from autonomos.store.models import LoginDirectory
from autonomos.store.session import Database

DEMO_TENANT = "Demo Corp"
DEMO_EMAIL = "demo@example.com"
MOCK_SOURCES = Path(__file__).resolve().parents[2] / "mock_sources"


def credentials_file(settings: Settings) -> Path:
    return settings.data_dir / "demo_credentials.json"


async def ensure_demo_tenant(settings: Settings) -> uuid.UUID | None:
    """The demo tenant's id, created (with its admin) on first use and granted
    ``mock_sources/``; ``None`` when the demo admin's e-mail already signs in to a tenant
    that ``up`` did not create (someone registered it first)."""
    db = Database(settings.app_database_url)
    try:
        tenant_id = await _made_by_up(settings, db)
        if tenant_id is None:
            password = secrets.token_urlsafe(12)
            auth = AuthService.from_settings(settings, db)
            try:
                tenant, _ = await auth.create_tenant(
                    DEMO_TENANT, DEMO_EMAIL, password, "Demo Admin"
                )
            except EmailTaken:
                return None
            write_private(
                credentials_file(settings),
                json.dumps({"email": DEMO_EMAIL, "password": password}),
                replace=True,
            )
            tenant_id = tenant.id
        if MOCK_SOURCES.is_dir():
            await grant_root(settings, db, tenant_id, MOCK_SOURCES)
        return tenant_id
    finally:
        await db.dispose()


async def _made_by_up(settings: Settings, db: Database) -> uuid.UUID | None:
    """The tenant whose admin login ``up`` saved in the data dir (tenant names prove
    nothing: they are not unique)."""
    path = credentials_file(settings)
    if not path.is_file():
        return None
    email = json.loads(path.read_text()).get("email", "")
    async with db.global_session() as s:
        entry = await s.get(LoginDirectory, email)
    return None if entry is None else entry.tenant_id
