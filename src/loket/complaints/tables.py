"""Tables of the complaints work (migration 0008). Complaint text, names and the final answer are
personal data: sealed with the SecretBox, bound to their row; only kinds, codes and dates are plain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loket.db.base import Base, BigId, Json, UTCDateTime


class ComplaintSequence(Base):
    """The last reference number given per tenant and year (PGD-<year>-<number>)."""

    __tablename__ = "complaint_sequences"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reference"),
        UniqueConstraint("tenant_id", "appk_ticket_id"),
        UniqueConstraint("tenant_id", "source_key"),
        Index("ix_complaints_tenant_status_due", "tenant_id", "status", "due_date"),
        Index("ix_complaints_tenant_received", "tenant_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    reference: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(16))
    product: Mapped[str] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    form: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int | None] = mapped_column(BigInteger)  # rupiah in dispute
    incident_date: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(8))
    zone: Mapped[str] = mapped_column(String(40))  # the customer's IANA zone, for dates told to them
    customer_id: Mapped[str | None] = mapped_column(String(64))
    wa_id: Mapped[str | None] = mapped_column(String(32))
    phone_number_id: Mapped[str | None] = mapped_column(String(32))
    contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # name / phone / email given
    summary_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # what happened, in their words
    representative_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    power_of_attorney: Mapped[bool] = mapped_column(Boolean, default=False)
    documents: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    documents_complete: Mapped[bool] = mapped_column(Boolean, default=True)
    clock: Mapped[dict[str, Any]] = mapped_column(Json)
    due_date: Mapped[date | None] = mapped_column(Date)  # current deadline; None while paused
    appk_ticket_id: Mapped[str | None] = mapped_column(String(64))
    source_key: Mapped[str | None] = mapped_column(String(200))  # idempotency (a wamid, an import row)
    final_answer_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComplaintEvent(Base):
    """The complaint's history, append-only (CMP-10): codes, statuses and staff ids, never its text."""

    __tablename__ = "complaint_events"
    __table_args__ = (Index("ix_complaint_events_complaint", "complaint_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    actor: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComplaintAlert(Base):
    """A staff reminder or escalation, made once per key by the scheduled pass; open until acknowledged."""

    __tablename__ = "complaint_alerts"
    __table_args__ = (
        UniqueConstraint("complaint_id", "key"),
        Index("ix_complaint_alerts_open", "tenant_id", "acknowledged_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(24))
    deadline: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
