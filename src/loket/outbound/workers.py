"""Dispatcher heartbeats, and recovering what a crashed dispatcher had claimed.

Every dispatcher writes a heartbeat every few seconds. Rows in `sending` whose worker has not
beaten for `timeout` (or that no live worker owns) may or may not have reached Meta: they become
`unknown`, and the status webhooks (biz_opaque_callback_data = the outbox id) settle them as sent.
They are never resent blindly. An `unknown` row that no status has settled within `unknown_grace`
is dead-lettered with that reason, for an operator to decide (`loket outbox retry`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import delete, func, literal_column, or_, select, update

from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.outbound.metrics import RECOVERED, WORKERS_ALIVE
from loket.outbound.tables import OutboundWorker

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 5.0
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
UNKNOWN_GRACE = timedelta(minutes=15)
UNKNOWN_PREFIX = "outcome unknown"
FORGET_STOPPED_AFTER = timedelta(days=1)


async def recover_claims(
    db: Database,
    *,
    clock: Clock = system_clock,
    exclude: str | None = None,
    timeout: timedelta = HEARTBEAT_TIMEOUT,
) -> int:
    """Rows claimed by a worker that stopped beating (or none we know) become `unknown`."""
    now = clock.now()
    cutoff = now - timeout
    async with db.transaction() as session:
        alive = select(OutboundWorker.worker_id).where(
            OutboundWorker.heartbeat_at >= cutoff, OutboundWorker.stopped_at.is_(None)
        )
        owner_gone = or_(OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_by.not_in(alive))
        if exclude is not None:
            owner_gone = owner_gone & (OutboxMessage.claimed_by != exclude)
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == literal_column("'sending'"), OutboxMessage.claimed_at < cutoff, owner_gone)
            .values(
                state="unknown",
                last_error=f"{UNKNOWN_PREFIX}: the worker that claimed it stopped; awaiting the status webhook",
            )
            .execution_options(synchronize_session=False)
        )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        RECOVERED.labels("unknown").inc(count)
        log.warning("recovered %d rows claimed by a stopped worker: unknown until a status arrives", count)
    return count


async def expire_unknown(db: Database, *, clock: Clock = system_clock, grace: timedelta = UNKNOWN_GRACE) -> int:
    """`unknown` rows no status settled within `grace`: dead-lettered, for an operator to decide."""
    cutoff = clock.now() - grace
    async with db.transaction() as session:
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == "unknown", OutboxMessage.claimed_at < cutoff)
            .values(
                state="dead",
                last_error=f"{UNKNOWN_PREFIX}: no delivery status within {int(grace.total_seconds() // 60)} min; "
                "check the chat before retrying",
            )
            .execution_options(synchronize_session=False)
        )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        RECOVERED.labels("dead").inc(count)
    return count


class WorkerRegistry:
    """This process's heartbeat, and the periodic recovery of the others' claims."""

    def __init__(
        self,
        db: Database,
        worker_id: str,
        *,
        clock: Clock = system_clock,
        interval: float = HEARTBEAT_INTERVAL,
        timeout: timedelta = HEARTBEAT_TIMEOUT,
        unknown_grace: timedelta = UNKNOWN_GRACE,
    ) -> None:
        self._db = db
        self.worker_id = worker_id
        self._clock = clock
        self._interval = interval
        self._timeout = timeout
        self._grace = unknown_grace

    async def register(self) -> None:
        now = self._clock.now()
        async with self._db.transaction() as session:
            session.add(
                OutboundWorker(
                    worker_id=self.worker_id,
                    hostname=socket.gethostname()[:128],
                    pid=os.getpid(),
                    started_at=now,
                    heartbeat_at=now,
                )
            )

    async def beat(self) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboundWorker)
                .where(OutboundWorker.worker_id == self.worker_id)
                .values(heartbeat_at=self._clock.now())
            )

    async def stopped(self) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(OutboundWorker)
                .where(OutboundWorker.worker_id == self.worker_id)
                .values(stopped_at=self._clock.now())
            )

    async def housekeeping(self) -> None:
        now = self._clock.now()
        await recover_claims(self._db, clock=self._clock, exclude=self.worker_id, timeout=self._timeout)
        await expire_unknown(self._db, clock=self._clock, grace=self._grace)
        async with self._db.transaction() as session:
            await session.execute(
                delete(OutboundWorker).where(OutboundWorker.heartbeat_at < now - FORGET_STOPPED_AFTER)
            )
            alive = await session.scalar(
                select(func.count())
                .select_from(OutboundWorker)
                .where(OutboundWorker.heartbeat_at >= now - self._timeout, OutboundWorker.stopped_at.is_(None))
            )
        WORKERS_ALIVE.set(int(alive or 0))

    async def run_forever(self) -> None:
        """Beat every `interval`; recover every other beat. Failures are logged and retried."""
        await self._retrying(self.register)
        beats = 0
        while True:
            await asyncio.sleep(self._interval)
            await self._retrying(self.beat)
            beats += 1
            if beats % 2 == 0:
                await self._retrying(self.housekeeping)

    async def _retrying(self, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("worker heartbeat step failed; trying again next beat")
