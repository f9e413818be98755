"""The tables. Meta's ids are unique keys, so a redelivered webhook is a no-op at the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from loket.db.base import Base, BigId, Json, UTCDateTime


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    legal_name: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    ojk_licence_number: Mapped[str] = mapped_column(String(100))
    official_channels: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    default_language: Mapped[str] = mapped_column(String(8), default="id")
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"

    phone_number_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    display_number: Mapped[str] = mapped_column(String(32))
    waba_id: Mapped[str] = mapped_column(String(32))
    access_token_enc: Mapped[bytes] = mapped_column(LargeBinary)
    messages_per_second: Mapped[int] = mapped_column(Integer, default=80)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookEnvelope(Base):
    """The raw body as Meta sent it, once per distinct body, for inspection and replay."""

    __tablename__ = "webhook_envelopes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    body_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    parse_state: Mapped[str] = mapped_column(String(16))  # ok, partial, unrecognised, malformed
    phone_number_id: Mapped[str | None] = mapped_column(String(32))
    # Encryption at rest (0009): the body sealed under its customer's (or tenant's) data key; `body` is then empty.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (
        Index("ix_inbound_pending", "state", "id", postgresql_where=text("state = 'pending'")),
        Index("ix_inbound_customer", "tenant_id", "wa_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    wamid: Mapped[str] = mapped_column(String(128), unique=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    phone_number_id: Mapped[str] = mapped_column(String(32))
    wa_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    reply_id: Mapped[str | None] = mapped_column(String(256))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    profile_name: Mapped[str | None] = mapped_column(String(256))
    meta_timestamp: Mapped[int] = mapped_column(BigId)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    envelope_sha256: Mapped[str | None] = mapped_column(String(64))
    # pending -> done | failed; orphaned when no tenant owns the phone number yet
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(200))
    # Encryption at rest (0009): text, payload and profile name sealed under the customer's data key
    # (inbox/sealing.py); the plain columns then hold nothing personal.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class MessageStatus(Base):
    __tablename__ = "message_statuses"
    __table_args__ = (UniqueConstraint("wamid", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    wamid: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    phone_number_id: Mapped[str] = mapped_column(String(32))
    recipient_id: Mapped[str | None] = mapped_column(String(32))
    biz_opaque_callback_data: Mapped[str | None] = mapped_column(String(512))
    meta_timestamp: Mapped[int] = mapped_column(BigId)
    pricing: Mapped[dict[str, Any] | None] = mapped_column(Json)
    errors: Mapped[list[Any] | None] = mapped_column(Json)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class ChannelEvent(Base):
    """Everything else a webhook carries: template status, marketing preference, errors, unknowns."""

    __tablename__ = "channel_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    envelope_sha256: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    phone_number_id: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    note: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed: Mapped[bool] = mapped_column(Boolean, default=False)


class Conversation(Base):
    """One row per customer per tenant: dialogue state, language, window; also the processing lock."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("tenant_id", "wa_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    wa_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    state: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """Every outbound message, written in the transaction that caused it; the dispatcher sends it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The claim's "earlier unsettled message to the same recipient" check (outbound engine, 0005).
        Index(
            "ix_outbox_recipient",
            "phone_number_id",
            "to_wa_id",
            "id",
            postgresql_where=text("state IN ('queued', 'sending')"),
            sqlite_where=text("state IN ('queued', 'sending')"),
        ),
        Index("ix_outbox_sending", "claimed_by", postgresql_where=text("state = 'sending'")),
        # The claim walks due rows in (priority, id) order and stops at its limit (0005).
        Index(
            "ix_outbox_claim",
            "priority",
            "id",
            postgresql_where=text("state = 'queued'"),
            sqlite_where=text("state = 'queued'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    phone_number_id: Mapped[str] = mapped_column(String(32))
    to_wa_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    purpose: Mapped[str] = mapped_column(String(32))  # service, alert, confirmation, security, marketing
    priority: Mapped[int] = mapped_column(SmallInteger)  # lower is sooner
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    context_message_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    # queued -> sending -> sent | failed | dead | unknown | refused | undeliverable | cancelled
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wamid: Mapped[str | None] = mapped_column(String(128), index=True)
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # The outbound engine (0005): retry deadline, the template to send when the window has closed,
    # who asked for the message, and the policy gate's last decision with its reason (AUD-2).
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fallback: Mapped[dict[str, Any] | None] = mapped_column(Json)
    origin: Mapped[str | None] = mapped_column(String(120), index=True)
    policy_verdict: Mapped[str | None] = mapped_column(String(24))
    policy_rule: Mapped[str | None] = mapped_column(String(64))
    policy_record: Mapped[dict[str, Any] | None] = mapped_column(Json)


class FlowSession(Base):
    """One WhatsApp Flow sent to one customer: its token (hashed), who it is bound to, and its outcome.

    The token is single-use: `status` goes from open to completed exactly once, by a conditional update.
    `result` holds only what the conversation needs afterwards (a reference number, a yes/no), never what
    the customer typed.
    """

    __tablename__ = "flow_sessions"
    __table_args__ = (Index("ix_flow_sessions_customer", "tenant_id", "wa_id"),)

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    wa_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    flow: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open -> completed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(Json)


class FeedbackEntry(Base):
    """Kritik & saran sent through the feedback Flow. The comment is personal data: sealed at rest
    (SecretBox, bound to the reference), and the WhatsApp number is kept only with consent to be contacted."""

    __tablename__ = "feedback_entries"
    __table_args__ = (Index("ix_feedback_entries_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    contact_wa_id: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(32))
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_consent: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
