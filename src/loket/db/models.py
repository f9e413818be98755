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
        Index(
            "ix_outbox_due",
            "state",
            "priority",
            "not_before",
            "id",
            postgresql_where=text("state = 'queued'"),
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
    # queued -> sending -> sent | failed | dead | unknown
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
