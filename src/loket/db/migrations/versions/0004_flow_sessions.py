"""WhatsApp Flow sessions (single-use tokens bound to tenant and customer) and feedback entries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loket.db.base import BigId, Json, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("result", Json, nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_flow_sessions_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_flow_sessions")),
    )
    with op.batch_alter_table("flow_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_flow_sessions_customer", ["tenant_id", "wa_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_flow_sessions_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "feedback_entries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("contact_wa_id", sa.String(length=32), nullable=True),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment_enc", sa.LargeBinary(), nullable=True),
        sa.Column("contact_consent", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_feedback_entries_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_entries")),
        sa.UniqueConstraint("reference", name=op.f("uq_feedback_entries_reference")),
    )
    with op.batch_alter_table("feedback_entries", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_entries_tenant_created", ["tenant_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_entries_tenant_created")
    op.drop_table("feedback_entries")
    with op.batch_alter_table("flow_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_sessions_expires_at"))
        batch_op.drop_index("ix_flow_sessions_customer")
    op.drop_table("flow_sessions")
