"""Processing the durable inbox: in order per customer, idempotently, on one or many workers.

A customer's conversation row is the lock: a worker takes it with FOR UPDATE SKIP LOCKED
(PostgreSQL; SQLite has one writer) and handles that customer's pending messages oldest first in
the same transaction as the replies it enqueues, so a crash replays the messages and the outbox's
idempotency keys swallow the replies already written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit.events import EventType
from loket.audit.log import current as audit_current
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import Conversation, InboundMessage
from loket.db.upsert import insert_ignore
from loket.inbox.sealing import open_message
from loket.metrics import INBOUND_PROCESSED
from loket.security.keystore import KeyStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


async def _audit_received(session: AsyncSession, conversation: Conversation, message: InboundMessage) -> None:
    """The audit fact, in the transaction that handled the message: ids and keyed hashes only."""
    audit_log = audit_current()
    if audit_log is None:
        return
    await audit_log.record(
        EventType.MESSAGE_RECEIVED,
        tenant=conversation.tenant_id,
        fields={
            "wamid": message.wamid,
            "phone_number_id": message.phone_number_id,
            "customer": conversation.wa_id,
            "kind": message.kind,
            "body": message.text,
        },
        session=session,
    )


class InboundHandler(Protocol):
    async def handle(self, session: AsyncSession, conversation: Conversation, message: InboundMessage) -> None: ...


class InboxProcessor:
    def __init__(
        self,
        db: Database,
        handler: InboundHandler,
        *,
        keys: KeyStore,
        clock: Clock = system_clock,
        batch_customers: int = 32,
        after_commit: Callable[[], Awaitable[None] | None] | None = None,
    ) -> None:
        self._db = db
        self._handler = handler
        self._keys = keys
        self._clock = clock
        self._batch = batch_customers
        self._after_commit = after_commit
        self.wake = asyncio.Event()

    async def run_once(self) -> int:
        """Process what is pending now; returns the number of messages handled."""
        async with self._db.sessions() as session:
            customers = (
                await session.execute(
                    select(InboundMessage.tenant_id, InboundMessage.wa_id)
                    .where(InboundMessage.state == "pending")
                    .group_by(InboundMessage.tenant_id, InboundMessage.wa_id)
                    .order_by(func.min(InboundMessage.id))
                    .limit(self._batch)
                )
            ).all()
        handled = 0
        for tenant_id, wa_id in customers:
            if tenant_id is not None:
                handled += await self._process_customer(tenant_id, wa_id)
        return handled

    async def _process_customer(self, tenant_id: str, wa_id: str) -> int:
        now = self._clock.now()
        handled = 0
        async with self._db.transaction() as session:
            await session.execute(
                insert_ignore(self._db.dialect, Conversation, "tenant_id", "wa_id").values(
                    tenant_id=tenant_id, wa_id=wa_id, state={}, created_at=now, updated_at=now
                )
            )
            conversation = (
                await session.execute(
                    select(Conversation)
                    .where(Conversation.tenant_id == tenant_id, Conversation.wa_id == wa_id)
                    .with_for_update(skip_locked=True)
                )
            ).scalar_one_or_none()
            if conversation is None:
                return 0  # another worker holds this customer
            messages = (
                await session.execute(
                    select(InboundMessage)
                    .where(
                        InboundMessage.tenant_id == tenant_id,
                        InboundMessage.wa_id == wa_id,
                        InboundMessage.state == "pending",
                    )
                    .order_by(InboundMessage.meta_timestamp, InboundMessage.id)
                )
            ).scalars()
            for message in messages:
                done = await self._process_message(session, conversation, message)
                handled += 1
                if not done:
                    break  # later messages wait, so the customer's order holds
        if handled and self._after_commit is not None:
            result = self._after_commit()
            if result is not None:
                await result
        return handled

    async def _process_message(
        self, session: AsyncSession, conversation: Conversation, message: InboundMessage
    ) -> bool:
        message.attempts += 1
        try:
            if not await open_message(self._keys, session, message):
                # The customer's key was shredded while this waited: nothing left to act on.
                message.state = "done"
                message.processed_at = self._clock.now()
                message.error = "erased"
                return True
            async with session.begin_nested():
                await self._handler.handle(session, conversation, message)
        except Exception as exc:
            # The savepoint undid this message's effects; the ones before it stand.
            log.exception("inbound message %s failed (attempt %d)", message.id, message.attempts)
            if message.attempts >= MAX_ATTEMPTS:
                message.state = "failed"
                message.processed_at = self._clock.now()
                INBOUND_PROCESSED.labels("failed").inc()
            message.error = type(exc).__name__[:200]
            return message.state == "failed"
        message.state = "done"
        message.processed_at = self._clock.now()
        await _audit_received(session, conversation, message)
        INBOUND_PROCESSED.labels("done").inc()
        return True

    async def run_forever(self, *, idle_poll: float = 0.2) -> None:
        while True:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("inbox processing pass failed; retrying")
                handled = 0
                await asyncio.sleep(1.0)
            if handled:
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=idle_poll)
            except TimeoutError:
                pass

    async def adopt_orphans(self, phone_number_id: str, tenant_id: str) -> int:
        """Messages that arrived before their number was registered become pending for its tenant."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(InboundMessage)
                .where(InboundMessage.phone_number_id == phone_number_id, InboundMessage.state == "orphaned")
                .values(tenant_id=tenant_id, state="pending")
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
