"""DCL: materialisation state of the unified views.

Revision ID: 0004_dcl
Revises: 0003_mappings
Create Date: 2026-11-25 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from autonomos.store import rls  # noqa: F401
from autonomos.store.base import JSONType, UTCDateTime  # noqa: F401

revision: str = "0004_dcl"
down_revision: str | None = "0003_mappings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
