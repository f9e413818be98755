"""Sends the documents journeys make (e-statements): upload the sealed file through the ChannelPort
after the commit that made it, then queue the document message in the outbox and drop the content.

The engine is pure and the processor holds a transaction per customer, so nothing is uploaded
there: the turn stores the file (sealed with the master key) and this worker, woken after the
commit, does the HTTP part with no transaction open, as the dispatcher does for sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from loket.channel.errors import ChannelError
from loket.channel.outgoing import Document, Text
from loket.channel.port import ChannelPort
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.dialogue.persist import open_document
from loket.dialogue.tables import OutgoingDocument
from loket.i18n.catalog import t
from loket.outbound.outbox import Purpose, enqueue
from loket.security.secretbox import SecretBox, SecretDecryptionError
from loket.tenancy.directory import PhoneDirectory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=5)


class DocumentSender:
    def __init__(
        self,
        db: Database,
        channel: ChannelPort,
        directory: PhoneDirectory,
        box: SecretBox,
        *,
        clock: Clock = system_clock,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._channel = channel
        self._directory = directory
        self._box = box
        self._clock = clock
        self._on_queued = on_queued
        self.wake = asyncio.Event()

    async def run_once(self) -> int:
        now = self._clock.now()
        async with self._db.transaction() as session:
            await session.execute(
                update(OutgoingDocument)
                .where(OutgoingDocument.status == "uploading", OutgoingDocument.not_before < now - STUCK_AFTER)
                .values(status="queued")
            )
            due = (
                (
                    await session.execute(
                        select(OutgoingDocument.id)
                        .where(OutgoingDocument.status == "queued", OutgoingDocument.not_before <= now)
                        .order_by(OutgoingDocument.id)
                        .limit(10)
                    )
                )
                .scalars()
                .all()
            )
        sent = 0
        for document_id in due:
            sent += await self._send(document_id)
        if sent and self._on_queued is not None:
            self._on_queued()
        return sent

    async def _send(self, document_id: int) -> int:
        now = self._clock.now()
        async with self._db.transaction() as session:
            claimed = await session.execute(
                update(OutgoingDocument)
                .where(OutgoingDocument.id == document_id, OutgoingDocument.status == "queued")
                .values(status="uploading", attempts=OutgoingDocument.attempts + 1, not_before=now)
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return 0
            row = (
                await session.execute(select(OutgoingDocument).where(OutgoingDocument.id == document_id))
            ).scalar_one()
            key, pnid, wa_id, attempts = row.idempotency_key, row.phone_number_id, row.to_wa_id, row.attempts
            filename, caption, mime, language, blob = (
                row.filename,
                row.caption,
                row.mime_type,
                row.language,
                row.content_enc,
            )
        try:
            if blob is None:
                raise SecretDecryptionError("document content is gone")
            data = open_document(self._box, blob, key)
            media_id = await self._channel.upload_media(
                pnid, await self._directory.access_token(pnid), data, mime, filename
            )
        except (ChannelError, SecretDecryptionError, LookupError) as exc:
            await self._failed(document_id, attempts, type(exc).__name__, language)
            return 1 if attempts >= MAX_ATTEMPTS else 0
        async with self._db.transaction() as session:
            row = (
                await session.execute(select(OutgoingDocument).where(OutgoingDocument.id == document_id))
            ).scalar_one()
            await enqueue(
                session,
                dialect=self._db.dialect,
                tenant_id=row.tenant_id,
                phone_number_id=pnid,
                to_wa_id=wa_id,
                payload=dict(Document(media_id=media_id, filename=filename, caption=caption).to_payload()),
                purpose=Purpose.SERVICE,
                idempotency_key=f"{key}:send",
                now=self._clock.now(),
            )
            row.status, row.media_id, row.content_enc, row.done_at = "sent", media_id, None, self._clock.now()
        return 1

    async def _failed(self, document_id: int, attempts: int, error: str, language: str) -> None:
        now = self._clock.now()
        async with self._db.transaction() as session:
            row = (
                await session.execute(select(OutgoingDocument).where(OutgoingDocument.id == document_id))
            ).scalar_one()
            row.last_error = error[:300]
            if attempts < MAX_ATTEMPTS:
                row.status, row.not_before = "queued", now + timedelta(seconds=2**attempts)
                return
            log.warning("document %s could not be uploaded: %s", document_id, error)
            row.status, row.content_enc, row.done_at = "failed", None, now
            await enqueue(
                session,
                dialect=self._db.dialect,
                tenant_id=row.tenant_id,
                phone_number_id=row.phone_number_id,
                to_wa_id=row.to_wa_id,
                payload=dict(Text(body=t(language, "statement.failed")).to_payload()),
                purpose=Purpose.SERVICE,
                idempotency_key=f"{row.idempotency_key}:failed",
                now=now,
            )

    async def run_forever(self, *, idle_poll: float = 1.0) -> None:
        while True:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("document pass failed; retrying")
                handled = 0
            if handled:
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=idle_poll)
