"""Tables of the privacy work (created by migration 0010 through loket.privacy.migration_0010).

- `privacy_requests`: one row per data-subject request (PDP-R9: a recorded application), with its
  legal clock, status, verification and evidence. After an erasure the WhatsApp number is dropped and
  only its keyed hash (`subject_hash`) stays, so the request itself keeps its non-personal form.
- `privacy_legal_holds`: holds that stop erasure and retention purges, per customer or per tenant.
- `privacy_purge_runs`: the report of every retention purge, per tenant and data class.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from loket.db.base import Base, BigId, Json, UTCDateTime


class PrivacyRequest(Base):
    __tablename__ = "privacy_requests"
    __table_args__ = (
        Index("ix_privacy_requests_tenant_status", "tenant_id", "status", "due_at"),
        Index("ix_privacy_requests_subject", "tenant_id", "subject_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    wa_id: Mapped[str | None] = mapped_column(String(32))
    subject_hash: Mapped[str] = mapped_column(String(80))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    right: Mapped[str] = mapped_column(String(24))
    purpose: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verification: Mapped[str | None] = mapped_column(String(32))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(48))
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(8))
    evidence: Mapped[list[Any]] = mapped_column(Json, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LegalHold(Base):
    __tablename__ = "privacy_legal_holds"
    __table_args__ = (Index("ix_privacy_legal_holds_tenant", "tenant_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    wa_id: Mapped[str | None] = mapped_column(String(32))  # None: the whole tenant
    subject_hash: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(48))
    case_ref: Mapped[str | None] = mapped_column(String(100))
    set_by: Mapped[str] = mapped_column(String(80))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(80))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PurgeRun(Base):
    __tablename__ = "privacy_purge_runs"
    __table_args__ = (Index("ix_privacy_purge_runs_tenant", "tenant_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, Any]] = mapped_column(Json)  # {data class: rows deleted (or that would be)}
    held: Mapped[dict[str, Any]] = mapped_column(Json)  # {data class: rows kept because of a legal hold}
    actor: Mapped[str] = mapped_column(String(80))
