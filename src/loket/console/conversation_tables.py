"""Tables of the console's conversation view (migration 0007).

- `console_notes`: internal notes staff write on a conversation; never sent to the customer. The
  text is personal data about the customer, so it is sealed at rest (SecretBox, bound to the row's
  tenant and key), like feedback comments.
- `console_canned_responses`: per-tenant reply snippets with variables ({{nama}}, {{agent}}...),
  managed by supervisors.
- `console_csat`: one CSAT question per closed handoff, and the customer's answer (1-5) once it comes
  back through the inbox. The supervisor dashboard reads it.
- `console_media_checks`: what a customer's file really is, sniffed from its bytes the first time a
  staff member opens it, so the thread can flag a dangerous file without fetching it again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loket.db.base import Base, BigId, UTCDateTime


class ConsoleNote(Base):
    __tablename__ = "console_notes"
    __table_args__ = (Index("ix_console_notes_conversation", "tenant_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    conversation_id: Mapped[int] = mapped_column(BigId)  # conversations.id
    handoff_id: Mapped[int | None] = mapped_column(BigId)  # the handoff open when it was written
    author_id: Mapped[str] = mapped_column(String(64))  # staff user id
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CannedResponse(Base):
    __tablename__ = "console_canned_responses"
    __table_args__ = (UniqueConstraint("tenant_id", "shortcut", "language"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    shortcut: Mapped[str] = mapped_column(String(32))  # what the agent types after "/", e.g. "salam"
    title: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CsatAnswer(Base):
    """Asked when an agent closes a handoff while the window is open; `score` stays None until the
    customer taps an answer (1 = very dissatisfied .. 5 = very satisfied)."""

    __tablename__ = "console_csat"
    __table_args__ = (Index("ix_console_csat_tenant_asked", "tenant_id", "asked_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    handoff_id: Mapped[int] = mapped_column(BigId, unique=True)
    conversation_id: Mapped[int] = mapped_column(BigId)
    wa_id: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(String(64))  # who handled the conversation
    asked_by: Mapped[str] = mapped_column(String(64))  # who closed it
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_wamid: Mapped[str | None] = mapped_column(String(128))


class MediaCheck(Base):
    __tablename__ = "console_media_checks"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    media_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    detected: Mapped[str] = mapped_column(String(32))  # jpeg, png, pdf, zip, apk, exe, elf, script, unknown...
    mime_type: Mapped[str] = mapped_column(String(100))  # from the bytes, not what the sender declared
    dangerous: Mapped[bool] = mapped_column(Boolean)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
