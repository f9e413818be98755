"""Tables of the conversation work (migration 0006)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from loket.db.base import Base, BigId, Json, UTCDateTime


class SecuritySignal(Base):
    """A security-relevant fact from a conversation (a shared secret, a reported scam, a rejected
    step-up, a changed number), for the fraud monitoring to come. Kinds and ids only, never a secret."""

    __tablename__ = "security_signals"
    __table_args__ = (Index("ix_security_signals_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    wa_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    source_wamid: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StepUpWatch(Base):
    """A pending step-up the watcher re-checks on a schedule, so the journey resumes without the
    customer having to write again. Mirrors `conversations.state.step_up`."""

    __tablename__ = "step_up_watches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "request_id"),
        Index("ix_step_up_watches_due", "status", "next_check_at", postgresql_where=text("status = 'watching'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    phone_number_id: Mapped[str] = mapped_column(String(32))
    wa_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="watching")  # watching -> decided | dropped
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checks: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutgoingDocument(Base):
    """A file for a customer (an e-statement): sealed at rest, uploaded after the commit that made it,
    then queued in the outbox as a document message; the content is dropped once uploaded."""

    __tablename__ = "outgoing_documents"
    __table_args__ = (
        Index("ix_outgoing_documents_due", "status", "not_before", postgresql_where=text("status = 'queued'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    phone_number_id: Mapped[str] = mapped_column(String(32))
    to_wa_id: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    caption: Mapped[str] = mapped_column(String(1024))
    mime_type: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8))
    content_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued -> sent | failed
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    media_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Handoff(Base):
    """A conversation handed to a person: waiting -> active (an agent replied) -> closed (handed back)."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_queue", "tenant_id", "status", "created_at"),
        Index("ix_handoffs_customer", "tenant_id", "wa_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    phone_number_id: Mapped[str] = mapped_column(String(32))
    wa_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(64))
