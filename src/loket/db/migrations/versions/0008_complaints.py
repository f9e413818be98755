"""complaints (pengaduan): cases, SLA clocks, documents, status history

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loket.db.base import BigId, Json, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaint_sequences",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_complaint_sequences_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "year", name=op.f("pk_complaint_sequences")),
    )
    op.create_table(
        "complaints",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("product", sa.String(length=32), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("form", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("incident_date", sa.Date(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("zone", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("wa_id", sa.String(length=32), nullable=True),
        sa.Column("phone_number_id", sa.String(length=32), nullable=True),
        sa.Column("contact_enc", sa.LargeBinary(), nullable=True),
        sa.Column("summary_enc", sa.LargeBinary(), nullable=True),
        sa.Column("representative_enc", sa.LargeBinary(), nullable=True),
        sa.Column("power_of_attorney", sa.Boolean(), nullable=False),
        sa.Column("documents", Json, nullable=False),
        sa.Column("documents_complete", sa.Boolean(), nullable=False),
        sa.Column("clock", Json, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("appk_ticket_id", sa.String(length=64), nullable=True),
        sa.Column("source_key", sa.String(length=200), nullable=True),
        sa.Column("final_answer_enc", sa.LargeBinary(), nullable=True),
        sa.Column("assigned_to", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("breached_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_complaints_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("tenant_id", "reference", name=op.f("uq_complaints_tenant_id_reference")),
        sa.UniqueConstraint("tenant_id", "appk_ticket_id", name=op.f("uq_complaints_tenant_id_appk_ticket_id")),
        sa.UniqueConstraint("tenant_id", "source_key", name=op.f("uq_complaints_tenant_id_source_key")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index("ix_complaints_tenant_status_due", ["tenant_id", "status", "due_date"], unique=False)
        batch_op.create_index("ix_complaints_tenant_received", ["tenant_id", "received_at"], unique=False)

    op.create_table(
        "complaint_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("complaint_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("detail", Json, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_complaint_events_tenant_id_tenants")),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_complaint_events_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_events")),
    )
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_events_complaint", ["complaint_id", "id"], unique=False)

    op.create_table(
        "complaint_alerts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("complaint_id", BigId, nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_complaint_alerts_tenant_id_tenants")),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_complaint_alerts_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_alerts")),
        sa.UniqueConstraint("complaint_id", "key", name=op.f("uq_complaint_alerts_complaint_id_key")),
    )
    with op.batch_alter_table("complaint_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_alerts_open", ["tenant_id", "acknowledged_at"], unique=False)


def downgrade() -> None:
    op.drop_table("complaint_alerts")
    op.drop_table("complaint_events")
    op.drop_table("complaints")
    op.drop_table("complaint_sequences")
