"""Row-level security DDL for tenant-owned tables (Postgres only; no-op elsewhere).

Migrations call :func:`enable` for every tenant-owned table they create. The policy
compares ``tenant_id`` with the transaction-local setting ``app.tenant_id``; with the
setting absent, ``current_setting(..., true)`` is NULL and no row matches. FORCE makes
the policy apply to the table owner too (superusers and BYPASSRLS roles still bypass it,
which is why the application must connect as a plain role).
"""

from __future__ import annotations

from alembic import op

SETTING = "app.tenant_id"


def enable(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY tenant_isolation ON "{table}" '
        f"USING (tenant_id = NULLIF(current_setting('{SETTING}', true), '')::uuid) "
        f"WITH CHECK (tenant_id = NULLIF(current_setting('{SETTING}', true), '')::uuid)"
    )


def disable(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'DROP POLICY IF EXISTS tenant_isolation ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
