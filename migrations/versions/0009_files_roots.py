"""Local folders the operator granted a tenant's files connections (``tenants.files_roots``).

Revision ID: 0009_files_roots
Revises: 0008_auth_hardening
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from autonomos.store.base import JSONType

revision: str = "0009_files_roots"
down_revision: str | None = "0008_auth_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, not a batch: on SQLite a batch rebuilds ``tenants``, and dropping the
# old table cascades (foreign keys on) to ``login_directory``. SQLite >= 3.35 adds and drops
# a plain column in place.
def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("files_roots", JSONType, nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    op.drop_column("tenants", "files_roots")
