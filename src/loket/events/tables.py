"""Tables of the events API and what it drives: alerts, confirmations, callbacks to the institution.

- `event_endpoints`: per tenant, the HMAC signing secret (sealed with SecretBox; the previous one
  stays valid for a rotation overlap) and the URL Loket calls back with decisions and notices.
- `institution_events`: every accepted event, unique by (tenant, event id), with the answer it got:
  a replay returns that first answer.
- `institution_callbacks`: signed callbacks waiting to be delivered, retried with back-off.
- `confirmations`: transaction confirmation requests and their decisions, with the evidence.
- `alert_preferences`, `alert_digest_items`: what a customer wants alerted, and the quiet items
  waiting for the daily digest.
- `fraud_signals`: "Bukan saya" answers and expired confirmations, for the fraud team.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loket.db.base import Base, BigId, Json, UTCDateTime


class EventEndpoint(Base):
    __tablename__ = "event_endpoints"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    previous_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    callback_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InstitutionEvent(Base):
    __tablename__ = "institution_events"
    __table_args__ = (UniqueConstraint("tenant_id", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    event_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    body_sha256: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int] = mapped_column(SmallInteger)
    result: Mapped[dict[str, Any]] = mapped_column(Json)


class InstitutionCallback(Base):
    __tablename__ = "institution_callbacks"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "ref"),
        Index("ix_institution_callbacks_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    kind: Mapped[str] = mapped_column(String(40))  # confirmation.decided, message.undeliverable, ...
    ref: Mapped[str] = mapped_column(String(120))
    body: Mapped[dict[str, Any]] = mapped_column(Json)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))


class Confirmation(Base):
    __tablename__ = "confirmations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        Index("ix_confirmations_open", "state", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # cfm_<random>: also in the button ids
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    event_id: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[str] = mapped_column(String(64))
    wa_id: Mapped[str] = mapped_column(String(32))
    phone_number_id: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    # pending -> confirmed | denied | expired | step_up_pending -> confirmed | step_up_failed
    state: Mapped[str] = mapped_column(String(20))
    risk: Mapped[str] = mapped_column(String(8))
    needs_step_up: Mapped[bool] = mapped_column(Boolean)
    amount: Mapped[int] = mapped_column(BigInteger)
    payee: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[str | None] = mapped_column(String(64))
    card_id: Mapped[str | None] = mapped_column(String(64))
    transaction_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step_up_id: Mapped[str | None] = mapped_column(String(64))
    shown: Mapped[dict[str, Any]] = mapped_column(Json)  # the text and buttons the customer saw
    shown_sha256: Mapped[str] = mapped_column(String(64))
    reply_wamid: Mapped[str | None] = mapped_column(String(128))
    actions: Mapped[dict[str, Any] | None] = mapped_column(Json)  # card block reference, errors


class AlertPreference(Base):
    __tablename__ = "alert_preferences"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    min_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    kinds: Mapped[list[str] | None] = mapped_column(Json)  # None: every kind
    digest_below: Mapped[int] = mapped_column(BigInteger, default=0)  # quiet items go to the daily digest
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DigestItem(Base):
    __tablename__ = "alert_digest_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        Index("ix_alert_digest_pending", "tenant_id", "customer_id", "digested_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    customer_id: Mapped[str] = mapped_column(String(64))
    wa_id: Mapped[str] = mapped_column(String(32))
    phone_number_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    line: Mapped[dict[str, Any]] = mapped_column(Json)
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FraudSignal(Base):
    __tablename__ = "fraud_signals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))  # confirmation.denied, confirmation.expired
    ref: Mapped[str] = mapped_column(String(100))
    known_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(Json)
