"""The step-up watcher: re-checks pending step-ups on a short schedule and, when one is decided or
has expired, posts an internal event to the customer's inbox so the journey resumes (or the
customer is told it expired) without them having to write again.

Why both this and a check when the customer writes: customers approve in the app and come back
to WhatsApp expecting the answer to be there; polling every couple of seconds gets it there. The
check on the customer's next message stays, because it costs nothing and answers at once. The
event goes through the inbox rather than straight to the engine so that it is handled under the
conversation's lock, in order with the customer's own messages, and exactly once (its wamid is
unique). A core that can call Loket back when a request is decided would make polling unnecessary.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from loket.clock import Clock, system_clock
from loket.conversation.stepup import STEP_UP_EVENT
from loket.core.port import CoreError, CorePort, NotFound, StepUpStatus
from loket.db.engine import Database
from loket.db.models import InboundMessage
from loket.db.upsert import insert_ignore
from loket.dialogue.tables import StepUpWatch

log = logging.getLogger(__name__)

GRACE = timedelta(seconds=3)  # past expiry, one last look before telling the customer it expired
BATCH = 100


def event_wamid(request_id: str) -> str:
    return f"loket.step_up.{request_id}"


class StepUpWatcher:
    def __init__(
        self,
        db: Database,
        core: CorePort,
        *,
        clock: Clock = system_clock,
        interval_seconds: float = 2.0,
        on_event: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._core = core
        self._clock = clock
        self._interval = timedelta(seconds=interval_seconds)
        self._on_event = on_event
        self.wake = asyncio.Event()

    async def run_once(self) -> int:
        """Check the due watches; returns how many events were posted."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            due = (
                (
                    await session.execute(
                        select(StepUpWatch)
                        .where(StepUpWatch.status == "watching", StepUpWatch.next_check_at <= now)
                        .order_by(StepUpWatch.next_check_at)
                        .limit(BATCH)
                    )
                )
                .scalars()
                .all()
            )
            claimed = []
            for watch in due:
                # Push the next check forward first: another worker seeing the same row skips it.
                moved = await session.execute(
                    update(StepUpWatch)
                    .where(StepUpWatch.id == watch.id, StepUpWatch.next_check_at == watch.next_check_at)
                    .values(next_check_at=now + self._interval, checks=StepUpWatch.checks + 1)
                )
                if moved.rowcount:  # type: ignore[attr-defined]
                    claimed.append(
                        (
                            watch.id,
                            watch.tenant_id,
                            watch.phone_number_id,
                            watch.wa_id,
                            watch.request_id,
                            watch.expires_at,
                        )
                    )
        posted = 0
        for watch_id, tenant_id, pnid, wa_id, request_id, expires_at in claimed:
            status = await self._status(tenant_id, request_id)
            if status is None:
                continue
            if status is StepUpStatus.PENDING and now < expires_at + GRACE:
                continue
            await self._post(watch_id, tenant_id, pnid, wa_id, request_id, status, now)
            posted += 1
        if posted and self._on_event is not None:
            self._on_event()
        return posted

    async def _status(self, tenant_id: str, request_id: str) -> StepUpStatus | None:
        try:
            return (await self._core.get_step_up(tenant_id, request_id)).status
        except NotFound:
            return StepUpStatus.EXPIRED
        except CoreError:
            log.warning("step-up check failed; retrying later", extra={"tenant_id": tenant_id})
            return None

    async def _post(
        self, watch_id: int, tenant_id: str, pnid: str, wa_id: str, request_id: str, status: StepUpStatus, now: datetime
    ) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                insert_ignore(self._db.dialect, InboundMessage, "wamid").values(
                    wamid=event_wamid(request_id),
                    tenant_id=tenant_id,
                    phone_number_id=pnid,
                    wa_id=wa_id,
                    kind=STEP_UP_EVENT,
                    text=None,
                    reply_id=request_id,
                    payload={"type": "loket_step_up", "request_id": request_id, "status": status.value},
                    profile_name=None,
                    meta_timestamp=int(now.timestamp()),
                    received_at=now,
                    state="pending",
                    attempts=0,
                )
            )
            await session.execute(
                update(StepUpWatch).where(StepUpWatch.id == watch_id).values(status="decided", closed_at=now)
            )

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("step-up watch pass failed; retrying")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self._interval.total_seconds() / 2)
