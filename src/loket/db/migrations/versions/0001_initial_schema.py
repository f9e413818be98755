"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loket.db.base import BigId, Json, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("envelope_sha256", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("phone_number_id", sa.String(length=32), nullable=True),
        sa.Column("payload", Json, nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_events")),
    )
    with op.batch_alter_table("channel_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channel_events_kind"), ["kind"], unique=False)

    op.create_table(
        "inbound_messages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("wamid", sa.String(length=128), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("reply_id", sa.String(length=256), nullable=True),
        sa.Column("payload", Json, nullable=False),
        sa.Column("profile_name", sa.String(length=256), nullable=True),
        sa.Column("meta_timestamp", BigId, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("envelope_sha256", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("wamid", name=op.f("uq_inbound_messages_wamid")),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_customer", ["tenant_id", "wa_id", "id"], unique=False)
        batch_op.create_index(
            "ix_inbound_pending", ["state", "id"], unique=False, postgresql_where=sa.text("state = 'pending'")
        )

    op.create_table(
        "message_statuses",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("wamid", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("recipient_id", sa.String(length=32), nullable=True),
        sa.Column("biz_opaque_callback_data", sa.String(length=512), nullable=True),
        sa.Column("meta_timestamp", BigId, nullable=False),
        sa.Column("pricing", Json, nullable=True),
        sa.Column("errors", Json, nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_statuses")),
        sa.UniqueConstraint("wamid", "status", name=op.f("uq_message_statuses_wamid_status")),
    )
    with op.batch_alter_table("message_statuses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_statuses_applied"), ["applied"], unique=False)

    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("ojk_licence_number", sa.String(length=100), nullable=False),
        sa.Column("official_channels", Json, nullable=False),
        sa.Column("default_language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "webhook_envelopes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("parse_state", sa.String(length=16), nullable=False),
        sa.Column("phone_number_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_envelopes")),
        sa.UniqueConstraint("body_sha256", name=op.f("uq_webhook_envelopes_body_sha256")),
    )
    op.create_table(
        "conversations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("state", Json, nullable=False),
        sa.Column("last_inbound_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_conversations_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("tenant_id", "wa_id", name=op.f("uq_conversations_tenant_id_wa_id")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("to_wa_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("context_message_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("wamid", sa.String(length=128), nullable=True),
        sa.Column("delivery_status", sa.String(length=16), nullable=True),
        sa.Column("delivery_status_at", UTCDateTime(), nullable=True),
        sa.Column("last_error_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_outbox_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_due",
            ["state", "priority", "not_before", "id"],
            unique=False,
            postgresql_where=sa.text("state = 'queued'"),
        )
        batch_op.create_index(batch_op.f("ix_outbox_wamid"), ["wamid"], unique=False)

    op.create_table(
        "phone_numbers",
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("display_number", sa.String(length=32), nullable=False),
        sa.Column("waba_id", sa.String(length=32), nullable=False),
        sa.Column("access_token_enc", sa.LargeBinary(), nullable=False),
        sa.Column("messages_per_second", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_phone_numbers_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("phone_number_id", name=op.f("pk_phone_numbers")),
    )
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_phone_numbers_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_numbers_tenant_id"))

    op.drop_table("phone_numbers")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_wamid"))
        batch_op.drop_index("ix_outbox_due", postgresql_where=sa.text("state = 'queued'"))

    op.drop_table("outbox")
    op.drop_table("conversations")
    op.drop_table("webhook_envelopes")
    op.drop_table("tenants")
    with op.batch_alter_table("message_statuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_statuses_applied"))

    op.drop_table("message_statuses")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_pending", postgresql_where=sa.text("state = 'pending'"))
        batch_op.drop_index("ix_inbound_customer")

    op.drop_table("inbound_messages")
    with op.batch_alter_table("channel_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_events_kind"))

    op.drop_table("channel_events")
