"""The conversation's thread as staff see it: what the customer wrote, what the bot and the agents
answered (with delivery ticks), and the internal notes, in time order.

`load_thread` is the one place that reads message bodies for the console (inbound text, outbox
payloads, sealed notes): encryption at rest of bodies adapts here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.console.conversation_tables import ConsoleNote
from loket.conversation.stepup import STEP_UP_EVENT
from loket.db.models import InboundMessage, OutboxMessage
from loket.inbox.sealing import open_messages
from loket.outbound.outbox import READ_RECEIPT
from loket.security.secretbox import SecretBox, SecretDecryptionError

Author = Literal["customer", "bot", "agent", "note"]
MEDIA_KINDS = ("image", "document", "audio", "video", "sticker")
AGENT_ORIGIN = "agent:"
NOTES_TABLE = "console_notes"
THREAD_LIMIT = 150


@dataclass(frozen=True, slots=True)
class MediaRef:
    media_id: str
    kind: str  # image, document, audio, video, sticker
    filename: str | None
    declared_mime: str | None
    caption: str | None


@dataclass(frozen=True, slots=True)
class ThreadItem:
    author: Author
    at: datetime
    kind: str  # text, image, document, interactive, template, note...
    text: str | None
    media: MediaRef | None = None
    staff_id: str | None = None  # the agent who sent it, or the note's author
    ticks: str | None = None  # queued, sent, delivered, read, failed, refused (outgoing only)
    refused_rule: str | None = None
    template: str | None = None
    ref: str = ""  # a stable id for the page: in:<id>, out:<id>, note:<id>


def seal_note(box: SecretBox, text: str, *, tenant_id: str, conversation_id: int) -> bytes:
    return box.seal(text, table=NOTES_TABLE, column="body_enc", row=f"{tenant_id}/{conversation_id}")


def _open_note(box: SecretBox, blob: bytes, *, tenant_id: str, conversation_id: int) -> str | None:
    try:
        return box.open(blob, table=NOTES_TABLE, column="body_enc", row=f"{tenant_id}/{conversation_id}")
    except SecretDecryptionError:
        return None


def _inbound_item(row: InboundMessage) -> ThreadItem:
    media = None
    payload = row.payload or {}
    body = payload.get(row.kind) if row.kind in MEDIA_KINDS else None
    if isinstance(body, dict) and isinstance(body.get("id"), str):
        media = MediaRef(
            media_id=body["id"],
            kind=row.kind,
            filename=body.get("filename") if isinstance(body.get("filename"), str) else None,
            declared_mime=body.get("mime_type") if isinstance(body.get("mime_type"), str) else None,
            caption=body.get("caption") if isinstance(body.get("caption"), str) else None,
        )
    return ThreadItem("customer", row.received_at, row.kind, row.text, media=media, ref=f"in:{row.id}")


def _outgoing_text(payload: dict[str, Any]) -> tuple[str | None, MediaRef | None, str | None]:
    kind = str(payload.get("type", ""))
    obj = payload.get(kind)
    if not isinstance(obj, dict):
        return None, None, None
    if kind == "text":
        return str(obj.get("body", "")), None, None
    if kind == "interactive":
        body = obj.get("body")
        return (str(body.get("text", "")) if isinstance(body, dict) else None), None, None
    if kind == "template":
        params: list[str] = []
        for component in obj.get("components") or []:
            for param in component.get("parameters") or [] if isinstance(component, dict) else []:
                if isinstance(param, dict) and param.get("type") == "text":
                    params.append(str(param.get("text", "")))
        return " · ".join(params) or None, None, str(obj.get("name", ""))
    if kind in MEDIA_KINDS:
        media_id = obj.get("id")
        media = MediaRef(
            media_id=str(media_id or ""),
            kind=kind,
            filename=obj.get("filename") if isinstance(obj.get("filename"), str) else None,
            declared_mime=None,
            caption=obj.get("caption") if isinstance(obj.get("caption"), str) else None,
        )
        return media.caption, media, None
    return None, None, None


def _ticks(row: OutboxMessage) -> str:
    if row.state in ("refused", "dead", "failed", "undeliverable", "cancelled"):
        return "refused" if row.state == "refused" else "failed"
    if row.state != "sent":
        return "queued"
    return row.delivery_status if row.delivery_status in ("delivered", "read", "failed") else "sent"


def _outgoing_item(row: OutboxMessage) -> ThreadItem:
    text, media, template = _outgoing_text(row.payload or {})
    origin = row.origin or ""
    staff_id = origin[len(AGENT_ORIGIN) :] if origin.startswith(AGENT_ORIGIN) else None
    return ThreadItem(
        "agent" if staff_id else "bot",
        row.created_at,
        str((row.payload or {}).get("type", row.kind)),
        text,
        media=media,
        staff_id=staff_id,
        ticks=_ticks(row),
        refused_rule=row.policy_rule if row.state == "refused" else None,
        template=template,
        ref=f"out:{row.id}",
    )


async def load_thread(
    session: AsyncSession,
    *,
    tenant_id: str,
    wa_id: str,
    conversation_id: int,
    box: SecretBox,
    limit: int = THREAD_LIMIT,
) -> list[ThreadItem]:
    """The last `limit` messages each way and the notes, merged in time order (oldest first)."""
    inbound = (
        (
            await session.execute(
                select(InboundMessage)
                .where(InboundMessage.tenant_id == tenant_id, InboundMessage.wa_id == wa_id)
                .where(InboundMessage.kind != STEP_UP_EVENT)
                .order_by(InboundMessage.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    outgoing = (
        (
            await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.tenant_id == tenant_id, OutboxMessage.to_wa_id == wa_id)
                .where(OutboxMessage.kind != READ_RECEIPT)
                .order_by(OutboxMessage.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    notes = (
        (
            await session.execute(
                select(ConsoleNote)
                .where(ConsoleNote.tenant_id == tenant_id, ConsoleNote.conversation_id == conversation_id)
                .order_by(ConsoleNote.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    await open_messages(session, inbound)  # encryption at rest: contents sealed per customer (docs/encryption.md)
    items = [_inbound_item(row) for row in inbound] + [_outgoing_item(row) for row in outgoing]
    for note in notes:
        text = _open_note(box, note.body_enc, tenant_id=tenant_id, conversation_id=conversation_id)
        items.append(ThreadItem("note", note.created_at, "note", text, staff_id=note.author_id, ref=f"note:{note.id}"))
    order = {"customer": 0, "bot": 1, "agent": 1, "note": 2}
    items.sort(key=lambda item: (item.at, order[item.author], item.ref))
    return items[-limit * 2 :]
