"""conversation engine: security signals, step-up watches, outgoing documents, human handoffs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loket.db.base import BigId, Json, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_signals",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", Json, nullable=False),
        sa.Column("source_wamid", sa.String(length=128), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_security_signals_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_signals")),
    )
    with op.batch_alter_table("security_signals", schema=None) as batch_op:
        batch_op.create_index("ix_security_signals_tenant_created", ["tenant_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_security_signals_kind"), ["kind"], unique=False)

    op.create_table(
        "step_up_watches",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("next_check_at", UTCDateTime(), nullable=False),
        sa.Column("checks", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_step_up_watches_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_up_watches")),
        sa.UniqueConstraint("tenant_id", "request_id", name=op.f("uq_step_up_watches_tenant_id_request_id")),
    )
    with op.batch_alter_table("step_up_watches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_step_up_watches_due",
            ["status", "next_check_at"],
            unique=False,
            postgresql_where=sa.text("status = 'watching'"),
        )

    op.create_table(
        "outgoing_documents",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("to_wa_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("caption", sa.String(length=1024), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("content_enc", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("media_id", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_outgoing_documents_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_documents")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outgoing_documents_idempotency_key")),
    )
    with op.batch_alter_table("outgoing_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outgoing_documents_due",
            ["status", "not_before"],
            unique=False,
            postgresql_where=sa.text("status = 'queued'"),
        )

    op.create_table(
        "handoffs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned_to", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("first_reply_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_handoffs_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
    )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.create_index("ix_handoffs_queue", ["tenant_id", "status", "created_at"], unique=False)
        batch_op.create_index("ix_handoffs_customer", ["tenant_id", "wa_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index("ix_handoffs_customer")
        batch_op.drop_index("ix_handoffs_queue")
    op.drop_table("handoffs")
    with op.batch_alter_table("outgoing_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_outgoing_documents_due", postgresql_where=sa.text("status = 'queued'"))
    op.drop_table("outgoing_documents")
    with op.batch_alter_table("step_up_watches", schema=None) as batch_op:
        batch_op.drop_index("ix_step_up_watches_due", postgresql_where=sa.text("status = 'watching'"))
    op.drop_table("step_up_watches")
    with op.batch_alter_table("security_signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_security_signals_kind"))
        batch_op.drop_index("ix_security_signals_tenant_created")
    op.drop_table("security_signals")
