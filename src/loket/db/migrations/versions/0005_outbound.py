"""outbound engine: outbox columns (deadline, template fallback, origin, policy decision), recipients and
consent, templates, decisions, worker heartbeats, institution events, callbacks, confirmations, alert
preferences and digests, fraud signals

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loket.db.base import BigId, Json, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_templates",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("waba_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("meta_id", sa.String(length=64), nullable=True),
        sa.Column("components", Json, nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("waba_id", "name", "language", name=op.f("uq_message_templates_waba_id_name_language")),
    )
    op.create_table(
        "outbound_decisions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("outbox_id", BigId, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("verdict", sa.String(length=24), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("record", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_decisions")),
    )
    with op.batch_alter_table("outbound_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_decisions_outbox_id"), ["outbox_id"], unique=False)

    op.create_table(
        "outbound_workers",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=128), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.Column("stopped_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_outbound_workers")),
    )
    with op.batch_alter_table("outbound_workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_workers_heartbeat_at"), ["heartbeat_at"], unique=False)

    op.create_table(
        "alert_digest_items",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("line", Json, nullable=False),
        sa.Column("digested_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_alert_digest_items_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_digest_items")),
        sa.UniqueConstraint("tenant_id", "event_id", name=op.f("uq_alert_digest_items_tenant_id_event_id")),
    )
    with op.batch_alter_table("alert_digest_items", schema=None) as batch_op:
        batch_op.create_index("ix_alert_digest_pending", ["tenant_id", "customer_id", "digested_at"], unique=False)

    op.create_table(
        "alert_preferences",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("min_amount", sa.BigInteger(), nullable=False),
        sa.Column("kinds", Json, nullable=True),
        sa.Column("digest_below", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_alert_preferences_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", name=op.f("pk_alert_preferences")),
    )
    op.create_table(
        "confirmations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("needs_step_up", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("payee", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("card_id", sa.String(length=64), nullable=True),
        sa.Column("transaction_ref", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("step_up_id", sa.String(length=64), nullable=True),
        sa.Column("shown", Json, nullable=False),
        sa.Column("shown_sha256", sa.String(length=64), nullable=False),
        sa.Column("reply_wamid", sa.String(length=128), nullable=True),
        sa.Column("actions", Json, nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_confirmations_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmations")),
        sa.UniqueConstraint("tenant_id", "event_id", name=op.f("uq_confirmations_tenant_id_event_id")),
    )
    with op.batch_alter_table("confirmations", schema=None) as batch_op:
        batch_op.create_index("ix_confirmations_open", ["state", "expires_at"], unique=False)

    op.create_table(
        "event_endpoints",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("previous_secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("previous_valid_until", UTCDateTime(), nullable=True),
        sa.Column("callback_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("rotated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_event_endpoints_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_event_endpoints")),
    )
    op.create_table(
        "fraud_signals",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("known_at", UTCDateTime(), nullable=False),
        sa.Column("details", Json, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_fraud_signals_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_signals")),
    )
    with op.batch_alter_table("fraud_signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fraud_signals_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "institution_callbacks",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.String(length=120), nullable=False),
        sa.Column("body", Json, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_institution_callbacks_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_callbacks")),
        sa.UniqueConstraint("tenant_id", "kind", "ref", name=op.f("uq_institution_callbacks_tenant_id_kind_ref")),
    )
    with op.batch_alter_table("institution_callbacks", schema=None) as batch_op:
        batch_op.create_index("ix_institution_callbacks_due", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "institution_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("result", Json, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_institution_events_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_events")),
        sa.UniqueConstraint("tenant_id", "event_id", name=op.f("uq_institution_events_tenant_id_event_id")),
    )
    op.create_table(
        "outbound_recipients",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("relationship_since", UTCDateTime(), nullable=True),
        sa.Column("marketing_consent_at", UTCDateTime(), nullable=True),
        sa.Column("marketing_opt_out_at", UTCDateTime(), nullable=True),
        sa.Column("zone", sa.String(length=40), nullable=True),
        sa.Column("province", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("accounts", Json, nullable=True),
        sa.Column("refreshed_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_outbound_recipients_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "wa_id", name=op.f("pk_outbound_recipients")),
    )
    with op.batch_alter_table("outbound_recipients", schema=None) as batch_op:
        batch_op.create_index("ix_outbound_recipients_customer", ["tenant_id", "customer_id"], unique=True)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("fallback", Json, nullable=True))
        batch_op.add_column(sa.Column("origin", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("policy_verdict", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("policy_rule", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("policy_record", Json, nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_origin"), ["origin"], unique=False)
        batch_op.create_index(
            "ix_outbox_recipient",
            ["phone_number_id", "to_wa_id", "id"],
            unique=False,
            postgresql_where=sa.text("state IN ('queued', 'sending')"),
            sqlite_where=sa.text("state IN ('queued', 'sending')"),
        )
        batch_op.create_index(
            "ix_outbox_sending", ["claimed_by"], unique=False, postgresql_where=sa.text("state = 'sending'")
        )
        # Replaced by ix_outbox_claim: walking (priority, id) lets the claim stop at its limit.
        batch_op.drop_index("ix_outbox_due", postgresql_where=sa.text("state = 'queued'"))
        batch_op.create_index(
            "ix_outbox_claim",
            ["priority", "id"],
            unique=False,
            postgresql_where=sa.text("state = 'queued'"),
            sqlite_where=sa.text("state = 'queued'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_claim")
        batch_op.create_index(
            "ix_outbox_due",
            ["state", "priority", "not_before", "id"],
            unique=False,
            postgresql_where=sa.text("state = 'queued'"),
        )
        batch_op.drop_index("ix_outbox_sending", postgresql_where=sa.text("state = 'sending'"))
        batch_op.drop_index(
            "ix_outbox_recipient",
            postgresql_where=sa.text("state IN ('queued', 'sending')"),
            sqlite_where=sa.text("state IN ('queued', 'sending')"),
        )
        batch_op.drop_index(batch_op.f("ix_outbox_origin"))
        batch_op.drop_column("policy_record")
        batch_op.drop_column("policy_rule")
        batch_op.drop_column("policy_verdict")
        batch_op.drop_column("origin")
        batch_op.drop_column("fallback")
        batch_op.drop_column("deadline")

    with op.batch_alter_table("outbound_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_recipients_customer")

    op.drop_table("outbound_recipients")
    op.drop_table("institution_events")
    with op.batch_alter_table("institution_callbacks", schema=None) as batch_op:
        batch_op.drop_index("ix_institution_callbacks_due")

    op.drop_table("institution_callbacks")
    with op.batch_alter_table("fraud_signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fraud_signals_tenant_id"))

    op.drop_table("fraud_signals")
    op.drop_table("event_endpoints")
    with op.batch_alter_table("confirmations", schema=None) as batch_op:
        batch_op.drop_index("ix_confirmations_open")

    op.drop_table("confirmations")
    op.drop_table("alert_preferences")
    with op.batch_alter_table("alert_digest_items", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_digest_pending")

    op.drop_table("alert_digest_items")
    with op.batch_alter_table("outbound_workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_workers_heartbeat_at"))

    op.drop_table("outbound_workers")
    with op.batch_alter_table("outbound_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_decisions_outbox_id"))

    op.drop_table("outbound_decisions")
    op.drop_table("message_templates")
