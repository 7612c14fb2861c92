"""Agent orchestration (AOA): registered agents, their runs and their findings.

Revision ID: 0010_agents
Revises: 0009_files_roots
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from autonomos.store import rls
from autonomos.store.base import JSONType, UTCDateTime

revision: str = "0010_agents"
down_revision: str | None = "0009_files_roots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("agents", "agent_runs", "agent_findings")


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("schedule", sa.String(length=100), nullable=True),
        sa.Column("run_on_materialize", sa.Boolean(), nullable=False),
        sa.Column("reads", JSONType, nullable=False),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_hint", sa.String(length=16), nullable=True),
        sa.Column("next_run_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_agents_tenant_id_name")),
    )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agents_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "agent_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("inputs", JSONType, nullable=False),
        sa.Column("summary", JSONType, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("findings_count", sa.Integer(), nullable=False),
        sa.Column("severity_counts", JSONType, nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("llm_calls", sa.Integer(), nullable=False),
        sa.Column("llm_input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("llm_output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("llm_cost_usd", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_transient", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_runs_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_runs")),
        sa.UniqueConstraint(
            "agent_id", "external_id", name=op.f("uq_agent_runs_agent_id_external_id")
        ),
    )
    with op.batch_alter_table("agent_runs", schema=None) as batch_op:
        batch_op.create_index("ix_agent_runs_agent_created", ["agent_id", "created_at"])
        batch_op.create_index("ix_agent_runs_tenant_created", ["tenant_id", "created_at"])
        batch_op.create_index(batch_op.f("ix_agent_runs_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "agent_findings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("metrics", JSONType, nullable=False),
        sa.Column("evidence", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_findings_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["agent_runs.id"],
            name=op.f("fk_agent_findings_run_id_agent_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_findings")),
    )
    with op.batch_alter_table("agent_findings", schema=None) as batch_op:
        batch_op.create_index("ix_agent_findings_agent_created", ["agent_id", "created_at"])
        batch_op.create_index(batch_op.f("ix_agent_findings_run_id"), ["run_id"], unique=False)
        batch_op.create_index("ix_agent_findings_tenant_created", ["tenant_id", "created_at"])
        batch_op.create_index(
            batch_op.f("ix_agent_findings_tenant_id"), ["tenant_id"], unique=False
        )
    for table in TABLES:
        rls.enable(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        rls.disable(table)
    with op.batch_alter_table("agent_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_findings_tenant_id"))
        batch_op.drop_index("ix_agent_findings_tenant_created")
        batch_op.drop_index(batch_op.f("ix_agent_findings_run_id"))
        batch_op.drop_index("ix_agent_findings_agent_created")
    op.drop_table("agent_findings")
    with op.batch_alter_table("agent_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_runs_tenant_id"))
        batch_op.drop_index("ix_agent_runs_tenant_created")
        batch_op.drop_index("ix_agent_runs_agent_created")
    op.drop_table("agent_runs")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agents_tenant_id"))
    op.drop_table("agents")
