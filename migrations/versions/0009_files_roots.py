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


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("files_roots", JSONType, nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("files_roots")
