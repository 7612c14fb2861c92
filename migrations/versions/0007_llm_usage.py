"""LLM and embedding call telemetry per tenant.

Revision ID: 0007_llm_usage
Revises: 0006_jobs
Create Date: 2026-11-25 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from autonomos.store import rls  # noqa: F401
from autonomos.store.base import JSONType, UTCDateTime  # noqa: F401

revision: str = "0007_llm_usage"
down_revision: str | None = "0006_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
