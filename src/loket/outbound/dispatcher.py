"""The dispatcher: claims due outbox rows, sends them, records what Meta said.

No transaction is open while a request is in flight: a row is claimed (state `sending`) and
committed, sent, then settled in a second transaction. A row left in `sending` by a dead worker
becomes `unknown` and is reconciled from status webhooks (biz_opaque_callback_data carries the
outbox id), never blindly resent. Messages to one recipient go out in order: only the oldest
unsettled row per recipient can be claimed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Select, and_, exists, select, update
from sqlalchemy.orm import aliased

from loket.channel.errors import Action, GraphError, GraphTransportError, classify
from loket.channel.outgoing import JSONObject
from loket.channel.port import ChannelPort
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.metrics import OUTBOX_SENT, SEND_LATENCY
from loket.outbound.outbox import READ_RECEIPT
from loket.outbound.pacing import LocalPacer
from loket.tenancy.directory import PhoneDirectory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
STALE_CLAIM = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class StoredPayload:
    """An outbox payload, already validated when it was queued."""

    payload: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.payload.get("type", "unknown"))

    def validate(self) -> None:
        return None

    def to_payload(self) -> JSONObject:
        return cast(JSONObject, self.payload)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    tenant_id: str
    phone_number_id: str
    to_wa_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    context_message_id: str | None


class Dispatcher:
    def __init__(
        self,
        db: Database,
        channel: ChannelPort,
        directory: PhoneDirectory,
        *,
        clock: Clock = system_clock,
        concurrency: int = 64,
        worker_id: str | None = None,
        pace: bool = True,
    ) -> None:
        self._db = db
        self._channel = channel
        self._directory = directory
        self._clock = clock
        self._concurrency = concurrency
        self._in_flight: set[asyncio.Task[None]] = set()
        self._pacer = LocalPacer(clock=clock)
        self._pace = pace
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:8]}"
        self.wake = asyncio.Event()

    def _due(self, limit: int) -> Select[Any]:
        """Due rows that head their recipient's queue: earlier messages to the same person go first."""
        earlier = aliased(OutboxMessage)
        blocked = exists().where(
            and_(
                earlier.phone_number_id == OutboxMessage.phone_number_id,
                earlier.to_wa_id == OutboxMessage.to_wa_id,
                earlier.id < OutboxMessage.id,
                earlier.state.in_(("queued", "sending")),
            )
        )
        return (
            select(OutboxMessage.id)
            .where(OutboxMessage.state == "queued", OutboxMessage.not_before <= self._clock.now(), ~blocked)
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
        )

    async def claim(self, limit: int) -> list[Claimed]:
        now = self._clock.now()
        due = self._due(limit).with_for_update(skip_locked=True)
        async with self._db.transaction() as session:
            ids = list((await session.execute(due)).scalars())
            if not ids:
                return []
            rows = (
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids), OutboxMessage.state == "queued")
                    .values(state="sending", claimed_by=self.worker_id, claimed_at=now)
                    .returning(
                        OutboxMessage.id,
                        OutboxMessage.tenant_id,
                        OutboxMessage.phone_number_id,
                        OutboxMessage.to_wa_id,
                        OutboxMessage.kind,
                        OutboxMessage.payload,
                        OutboxMessage.attempts,
                        OutboxMessage.context_message_id,
                    )
                )
            ).all()
        return [Claimed(*row) for row in rows]

    async def _send(self, row: Claimed) -> None:
        try:
            number = await self._directory.number(row.phone_number_id)
            if number is None or number.status != "active":
                await self._settle(row, state="dead", error_code=None, error="phone number not active")
                return
            token = await self._directory.access_token(row.phone_number_id)
            if self._pace:
                await self._pacer.acquire(row.phone_number_id, number.messages_per_second, burst=1)
            started = self._clock.monotonic()
            if row.kind == READ_RECEIPT:
                await self._channel.mark_read(
                    row.phone_number_id, token, str(row.payload["message_id"]), typing=bool(row.payload.get("typing"))
                )
                wamid = None
            else:
                sent = await self._channel.send(
                    row.phone_number_id,
                    token,
                    row.to_wa_id,
                    StoredPayload(row.payload),
                    biz_opaque_callback_data=str(row.id),
                    context_message_id=row.context_message_id,
                )
                wamid = sent.wamid
            SEND_LATENCY.observe(self._clock.monotonic() - started)
        except (GraphError, GraphTransportError) as exc:
            await self._failed(row, exc)
            return
        except Exception as exc:
            # Not a channel answer (a bad payload, a missing token): retrying cannot help.
            log.exception("outbox %s could not be sent", row.id)
            await self._settle(row, state="dead", error=f"{type(exc).__name__}"[:300])
            OUTBOX_SENT.labels("dead").inc()
            return
        await self._settle(row, state="sent", wamid=wamid)
        OUTBOX_SENT.labels("sent").inc()

    async def _failed(self, row: Claimed, exc: GraphError | GraphTransportError) -> None:
        action = classify(exc)
        code = exc.code if isinstance(exc, GraphError) else None
        reason = f"{type(exc).__name__}: {exc}"[:300]
        attempts = row.attempts + 1
        OUTBOX_SENT.labels(action.value).inc()
        if action is Action.RECONCILE:
            await self._settle(row, state="unknown", error_code=code, error=reason, attempts=attempts)
        elif action in (Action.RETRY, Action.WAIT) and attempts < MAX_ATTEMPTS:
            delay = min(300.0, (2**attempts) * 0.5) * (0.5 + random.random())
            retry_after = getattr(exc, "retry_after", None)
            if isinstance(retry_after, int | float):
                delay = max(delay, float(retry_after))
            await self._settle(
                row,
                state="queued",
                error_code=code,
                error=reason,
                attempts=attempts,
                not_before_delay=delay,
            )
        else:
            state = "failed" if action is Action.GIVE_UP else "dead"
            await self._settle(row, state=state, error_code=code, error=reason, attempts=attempts)
        log.warning("outbox %s: %s (%s), attempt %d", row.id, action.value, code, attempts)

    async def _settle(
        self,
        row: Claimed,
        *,
        state: str,
        wamid: str | None = None,
        error_code: int | None = None,
        error: str | None = None,
        attempts: int | None = None,
        not_before_delay: float | None = None,
    ) -> None:
        now = self._clock.now()
        values: dict[str, Any] = {"state": state, "attempts": attempts if attempts is not None else row.attempts + 1}
        if state == "sent":
            values.update(sent_at=now, wamid=wamid)
        if error is not None:
            values.update(last_error=error, last_error_code=error_code)
        if not_before_delay is not None:
            values.update(not_before=now + timedelta(seconds=not_before_delay), claimed_by=None, claimed_at=None)
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == self.worker_id)
                .values(**values)
            )
        self.wake.set()

    async def recover_stale(self) -> int:
        """Rows a dead worker left in `sending`: the request may have reached Meta, so `unknown`."""
        cutoff = self._clock.now() - STALE_CLAIM
        async with self._db.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.state == "sending", OutboxMessage.claimed_at < cutoff)
                .values(state="unknown", last_error="claim expired: outcome unknown, awaiting status webhook")
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def run_once(self) -> int:
        free = self._concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        rows = await self.claim(free)
        for row in rows:
            task = asyncio.create_task(self._send(row))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(rows)

    async def drain(self) -> None:
        """Send everything due now and wait for it (tests, shutdown)."""
        while True:
            await self.run_once()
            if not self._in_flight:
                if not await self.claim_peek():
                    return
                continue
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def claim_peek(self) -> bool:
        async with self._db.sessions() as session:
            return (await session.execute(self._due(1))).first() is not None

    async def run_forever(self, *, idle_poll: float = 0.2) -> None:
        last_recovery = self._clock.monotonic()
        while True:
            try:
                claimed = await self.run_once()
                if self._clock.monotonic() - last_recovery > 30:
                    await self.recover_stale()
                    last_recovery = self._clock.monotonic()
            except Exception:
                log.exception("dispatch pass failed; retrying")
                claimed = 0
                await asyncio.sleep(1.0)
            if claimed:
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=idle_poll)
            except TimeoutError:
                pass

    async def close(self) -> None:
        if self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)
