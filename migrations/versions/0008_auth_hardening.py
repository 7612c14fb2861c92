"""Auth hardening: login throttling per (e-mail, address), tenant names no longer unique,
the per-user lockout columns dropped.

Revision ID: 0008_auth_hardening
Revises: 0007_llm_usage
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from autonomos.store.base import UTCDateTime

revision: str = "0008_auth_hardening"
down_revision: str | None = "0007_llm_usage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _rebuild_sqlite_tenants(unique: bool) -> None:
    """SQLite cannot drop or add a UNIQUE constraint in place: rebuild ``tenants``.

    Dropping the old table runs an implicit DELETE, and with foreign keys on (they are,
    and cannot be turned off inside the migration's transaction) that cascades to
    ``login_directory``; so its rows are kept aside and put back.
    """
    op.create_table(
        "_tenants_new",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, unique=unique),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
    )
    op.execute(
        "INSERT INTO _tenants_new (id, name, created_at) SELECT id, name, created_at FROM tenants"
    )
    op.execute("CREATE TEMP TABLE _login_directory_kept AS SELECT * FROM login_directory")
    op.drop_table("tenants")
    op.rename_table("_tenants_new", "tenants")
    op.execute("INSERT INTO login_directory SELECT * FROM _login_directory_kept")
    op.execute("DROP TABLE _login_directory_kept")


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_index(
        op.f("ix_login_throttle_updated_at"), "login_throttle", ["updated_at"], unique=False
    )
    if _sqlite():
        _rebuild_sqlite_tenants(unique=False)
    else:
        op.drop_constraint("uq_tenants_name", "tenants", type_="unique")
    op.create_index(op.f("ix_tenants_name"), "tenants", ["name"], unique=False)
    # SQLite >= 3.35 drops a plain column in place (no rebuild, so no cascade either)
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")


def downgrade() -> None:
    op.add_column(
        "users",
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("users", sa.Column("locked_until", UTCDateTime(), nullable=True))
    op.drop_index(op.f("ix_tenants_name"), table_name="tenants")
    if _sqlite():
        _rebuild_sqlite_tenants(unique=True)  # fails if two tenants now share a name
    else:
        op.create_unique_constraint("uq_tenants_name", "tenants", ["name"])
    op.drop_index(op.f("ix_login_throttle_updated_at"), table_name="login_throttle")
    op.drop_table("login_throttle")
