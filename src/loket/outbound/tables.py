"""Tables of the outbound engine: what the policy gate needs to know, what it decided, who is sending.

- `outbound_recipients`: one row per customer per tenant: the relationship (the institution's
  customer id), marketing consent and opt-out, the domicile zone and province (TZ-3), the language,
  and masked account labels for alerts. Filled from CorePort and from the customer's own choices.
- `message_templates`: the templates Meta knows for each WABA, with category and status.
- `outbound_decisions`: every non-Allow decision of the policy gate, with its record (AUD-2); the
  Allow decision is kept on the outbox row itself (`policy_record`).
- `outbound_workers`: dispatcher heartbeats, so the others can recover a crashed worker's claims.
- `notice_campaigns`: account notices to a segment of a tenant's customers, and their fan-out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loket.db.base import Base, BigId, Json, UTCDateTime


class Recipient(Base):
    __tablename__ = "outbound_recipients"
    __table_args__ = (Index("ix_outbound_recipients_customer", "tenant_id", "customer_id", unique=True),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    wa_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    relationship_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marketing_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marketing_opt_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    zone: Mapped[str | None] = mapped_column(String(40))  # IANA name, from the core's customer record
    province: Mapped[str | None] = mapped_column(String(64))  # domicile province (TZ-3)
    language: Mapped[str | None] = mapped_column(String(8))
    # {account_id: {"masked": "•••• 1234", "product": "Tabungan ..."}}: never a full account number.
    accounts: Mapped[dict[str, Any] | None] = mapped_column(Json)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MessageTemplate(Base):
    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("waba_id", "name", "language"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    waba_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(24))
    meta_id: Mapped[str | None] = mapped_column(String(64))
    components: Mapped[list[Any] | None] = mapped_column(Json)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PolicyDecisionLog(Base):
    __tablename__ = "outbound_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(BigId, index=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verdict: Mapped[str] = mapped_column(String(24))
    rule_id: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any]] = mapped_column(Json)


class OutboundWorker(Base):
    __tablename__ = "outbound_workers"

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(128))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NoticeCampaign(Base):
    """An account notice (change of terms, fees, a maintenance window) to all or a segment of a
    tenant's customers: fanned out into the outbox in batches (`cursor` walks the recipients by
    WhatsApp id), its progress read from the outbox rows whose origin is `notice:<id>`."""

    __tablename__ = "notice_campaigns"
    __table_args__ = (
        UniqueConstraint("tenant_id", "request_id"),
        Index("ix_notice_campaigns_state", "state", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # "ntc_" + hex
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    request_id: Mapped[str] = mapped_column(String(64))  # the sender's id: idempotency and lookups
    kind: Mapped[str] = mapped_column(String(24))  # terms, fees, maintenance, other
    content: Mapped[dict[str, Any]] = mapped_column(Json)  # {"id": {"title", "body"}, "en": {...}}
    content_sha256: Mapped[str] = mapped_column(String(64))
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    segment: Mapped[dict[str, Any]] = mapped_column(Json)
    # What the messages say about the institution, fixed when the notice is created.
    phone_number_id: Mapped[str] = mapped_column(String(32))
    institution: Mapped[str] = mapped_column(String(200))
    call_centre: Mapped[str] = mapped_column(String(40))
    default_language: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))  # fanning_out -> queued
    cursor: Mapped[str | None] = mapped_column(String(32))  # the last recipient wa_id looked at
    scanned: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)  # messages queued
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
