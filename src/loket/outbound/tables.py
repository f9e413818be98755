"""Tables of the outbound engine: what the policy gate needs to know, what it decided, who is sending.

- `outbound_recipients`: one row per customer per tenant: the relationship (the institution's
  customer id), marketing consent and opt-out, the domicile zone and province (TZ-3), the language,
  and masked account labels for alerts. Filled from CorePort and from the customer's own choices.
- `message_templates`: the templates Meta knows for each WABA, with category and status.
- `outbound_decisions`: every non-Allow decision of the policy gate, with its record (AUD-2); the
  Allow decision is kept on the outbox row itself (`policy_record`).
- `outbound_workers`: dispatcher heartbeats, so the others can recover a crashed worker's claims.
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
