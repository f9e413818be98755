"""Files in a conversation: what the customer sent (fetched through the channel port, checked from its
bytes, remembered in `console_media_checks`), and what an agent sends (checked the same way, uploaded
through the channel port, then queued in the outbox as an image or document message with its media id).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.channel.errors import ChannelError
from loket.channel.limits import CAPTION_MAX, MEDIA_MAX_BYTES
from loket.channel.outgoing import Document, Image
from loket.console.conversation_access import ConversationRef, find_conversation
from loket.console.conversation_services import ConversationServices
from loket.console.conversation_tables import MediaCheck
from loket.console.files_sniff import FileVerdict, sniff
from loket.console.reply import ReplyRefused, check_gate
from loket.console.thread import load_thread
from loket.db.upsert import insert_ignore
from loket.security.secretbox import SecretBox

FILENAME_MAX = 200
MEDIA_LOOKBACK = 500  # messages each way searched for a media id


class MediaUnavailable(LookupError):
    """The file could not be fetched (expired at Meta, or the channel is down)."""


@dataclass(frozen=True, slots=True)
class FetchedFile:
    data: bytes
    verdict: FileVerdict
    filename: str


async def media_in_conversation(
    session: AsyncSession, ref: ConversationRef, media_id: str, box: SecretBox
) -> str | None:
    """The declared filename if `media_id` belongs to this conversation (in either direction), else None;
    "" when it belongs but has no name. Staff can only fetch files of conversations they can open. Read
    through `load_thread`, the one place that opens message contents."""
    thread = await load_thread(
        session, tenant_id=ref.tenant_id, wa_id=ref.wa_id, conversation_id=ref.id, box=box, limit=MEDIA_LOOKBACK
    )
    for item in reversed(thread):
        if item.media is not None and item.media.media_id == media_id:
            return item.media.filename or ""
    return None


async def known_checks(session: AsyncSession, tenant_id: str, media_ids: list[str]) -> dict[str, MediaCheck]:
    if not media_ids:
        return {}
    rows = (
        await session.execute(
            select(MediaCheck).where(MediaCheck.tenant_id == tenant_id, MediaCheck.media_id.in_(media_ids))
        )
    ).scalars()
    return {row.media_id: row for row in rows}


async def fetch_customer_file(
    services: ConversationServices, ref: ConversationRef, media_id: str, declared_filename: str
) -> FetchedFile:
    """Download through the channel port, sniff, and remember the verdict for the thread."""
    try:
        token = await services.directory.access_token(ref.phone_number_id)
        info = await services.channel.get_media(media_id, token, ref.phone_number_id)
        data = await services.channel.download_media(info.url, token)
    except (ChannelError, LookupError) as exc:
        raise MediaUnavailable(media_id) from exc
    verdict = sniff(data, declared_filename or None)
    async with services.db.tenant_session(ref.tenant_id) as session:
        await session.execute(
            insert_ignore(services.db.dialect, MediaCheck, "tenant_id", "media_id").values(
                tenant_id=ref.tenant_id,
                media_id=media_id,
                detected=verdict.detected,
                mime_type=verdict.mime_type,
                dangerous=verdict.dangerous,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                checked_at=services.clock.now(),
            )
        )
    return FetchedFile(data, verdict, safe_filename(declared_filename, verdict))


def safe_filename(name: str | None, verdict: FileVerdict) -> str:
    cleaned = "".join(char for char in (name or "") if char.isascii() and (char.isalnum() or char in " ._-()")).strip(
        " ."
    )[:FILENAME_MAX]
    return cleaned or f"berkas.{verdict.detected}"


@dataclass(frozen=True, slots=True)
class Upload:
    payload: dict[str, object]
    verdict: FileVerdict


async def prepare_upload(
    services: ConversationServices,
    *,
    tenant_id: str,
    handoff_id: int,
    data: bytes,
    filename: str,
    caption: str,
) -> Upload:
    """Check an agent's file and upload it to the channel; returns the outbox payload to queue.

    Raises ReplyRefused: `file_empty`, `file_type` (not an image or document WhatsApp accepts, or
    dangerous), `file_size`, `caption`, or the policy gate's rule for the caption and name."""
    verdict = sniff(data, filename)
    kind = verdict.sendable_as
    if not data:
        raise ReplyRefused("file_empty")
    if kind is None:
        raise ReplyRefused("file_type", verdict.detected)
    if len(data) > MEDIA_MAX_BYTES[kind]:
        raise ReplyRefused("file_size")
    caption = caption.strip()
    if len(caption) > CAPTION_MAX:
        raise ReplyRefused("caption")
    name = safe_filename(filename, verdict)
    async with services.db.tenant_session(tenant_id) as session:
        ref = await find_conversation(session, tenant_id, handoff_id)
    ref.open_handoff()
    # The gate sees the caption and the file name before anything leaves Loket.
    placeholder = _payload(kind, "pending", name, caption)
    await check_gate(services, ref, placeholder)
    try:
        token = await services.directory.access_token(ref.phone_number_id)
        media_id = await services.channel.upload_media(ref.phone_number_id, token, data, verdict.mime_type, name)
    except (ChannelError, LookupError) as exc:
        raise ReplyRefused("upload_failed", type(exc).__name__) from None
    return Upload(_payload(kind, media_id, name, caption), verdict)


def _payload(kind: str, media_id: str, filename: str, caption: str) -> dict[str, object]:
    if kind == "image":
        return dict(Image(media_id=media_id, caption=caption or None).to_payload())
    return dict(Document(media_id=media_id, filename=filename, caption=caption or None).to_payload())
