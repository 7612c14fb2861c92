"""Knowledge base: documents, chunks (with a pgvector column where the extension
exists) and per-tenant KB settings.

Revision ID: 0011_kb
Revises: 0010_agents
Create Date: 2026-12-02 10:00:00

On Postgres with pgvector available, the extension is created (if the migrating role
may) and ``kb_chunks.embedding_vec vector(384)`` gets an HNSW index (cosine). Without
it (plain Postgres, SQLite) the column does not exist and the knowledge base searches
with FAISS over ``kb_chunks.embedding``. The column is outside the ORM models on purpose:
only the pgvector adapter touches it, with SQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from autonomos.store import rls
from autonomos.store.base import JSONType, UTCDateTime

revision: str = "0011_kb"
down_revision: str | None = "0010_agents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_OWNED = ("kb_documents", "kb_chunks", "kb_settings")
VECTOR_DIM = 384
CHUNK_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _pgvector() -> bool:
    """Create pgvector if this server has it; False where it cannot be had."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).scalar()
    if not available:
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except sa.exc.DBAPIError:
        return False  # the migrating role may not create extensions
    return True


def upgrade() -> None:
    op.create_table(
        "kb_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("chars", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("pii_redacted", sa.Boolean(), nullable=False),
        sa.Column("redactions", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_documents")),
    )
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kb_documents_tenant_external", ["tenant_id", "external_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_kb_documents_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "kb_chunks",
        sa.Column("id", CHUNK_ID, autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("start_char", sa.Integer(), nullable=False),
        sa.Column("end_char", sa.Integer(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["kb_documents.id"],
            name=op.f("fk_kb_chunks_document_id_kb_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_chunks")),
    )
    with op.batch_alter_table("kb_chunks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_chunks_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_chunks_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "kb_settings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("pii_redaction", sa.Boolean(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_kb_settings_tenant_id")),
    )
    with op.batch_alter_table("kb_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_settings_tenant_id"), ["tenant_id"], unique=False)

    if _pgvector():
        op.execute(f"ALTER TABLE kb_chunks ADD COLUMN embedding_vec vector({VECTOR_DIM})")
        op.execute(
            "CREATE INDEX ix_kb_chunks_embedding_hnsw ON kb_chunks "
            "USING hnsw (embedding_vec vector_cosine_ops)"
        )

    for table in TENANT_OWNED:
        rls.enable(table)


def downgrade() -> None:
    for table in reversed(TENANT_OWNED):
        rls.disable(table)
    with op.batch_alter_table("kb_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_settings_tenant_id"))
    op.drop_table("kb_settings")
    with op.batch_alter_table("kb_chunks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_chunks_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_kb_chunks_document_id"))
    op.drop_table("kb_chunks")  # takes the pgvector column and its index with it
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_documents_tenant_id"))
        batch_op.drop_index("ix_kb_documents_tenant_external")
    op.drop_table("kb_documents")
