"""Signed callbacks to the institution: confirmation decisions, undeliverable and refused messages.

A callback is a row written in the transaction of the change it reports (so none is lost), unique
per (tenant, kind, ref) (so none is sent twice for one change), then POSTed to the tenant's
callback URL with the events API's signature scheme and retried with jittered back-off for a day.
The body carries ids, states and codes, never message text or a customer's number.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.upsert import insert_ignore
from loket.events.endpoints import EndpointStore
from loket.events.signing import SIGNATURE_HEADER, TENANT_HEADER, signature_header
from loket.events.tables import InstitutionCallback
from loket.outbound.metrics import CALLBACKS
from loket.outbound.settle import Finished

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)
MAX_DELAY = 600.0
EVENT_ORIGIN = "event:"


async def queue_callback(
    session: AsyncSession, dialect: str, *, tenant_id: str, kind: str, ref: str, data: dict[str, Any], now: datetime
) -> None:
    body = {"type": kind, "id": f"{kind}:{ref}", "created_at": now.isoformat(), "data": data}
    await session.execute(
        insert_ignore(dialect, InstitutionCallback, "tenant_id", "kind", "ref").values(
            tenant_id=tenant_id,
            kind=kind,
            ref=ref,
            body=body,
            state="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


class MessageNotifier:
    """OutcomeListener: tells the institution when a message it asked for could not be delivered."""

    def __init__(self, dialect: str, *, clock: Clock = system_clock) -> None:
        self._dialect = dialect
        self._clock = clock

    async def messages_finished(self, session: AsyncSession, finished: Sequence[Finished]) -> None:
        now = self._clock.now()
        for item in finished:
            if item.notify is None or not item.origin or not item.origin.startswith(EVENT_ORIGIN):
                continue
            await queue_callback(
                session,
                self._dialect,
                tenant_id=item.tenant_id,
                kind=item.notify,
                ref=f"outbox:{item.outbox_id}",
                data={
                    "event_id": item.origin[len(EVENT_ORIGIN) :],
                    "loket_message_id": item.outbox_id,
                    "meta_message_id": item.wamid,
                    "state": item.state,
                    "error_code": item.error_code,
                    "reason": _reason_code(item),
                },
                now=now,
            )


def _reason_code(item: Finished) -> str:
    if item.state == "refused":
        return "policy"
    if item.state == "undeliverable":
        return "not_on_whatsapp"
    return "meta_error" if item.error_code else "send_failed"


class CallbackSender:
    def __init__(
        self,
        db: Database,
        endpoints: EndpointStore,
        *,
        clock: Clock = system_clock,
        timeout: float = 10.0,
        batch: int = 50,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._endpoints = endpoints
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._batch = batch
        self._rng = rng or random.Random()
        self._http: aiohttp.ClientSession | None = None
        self.wake = asyncio.Event()

    async def run_once(self) -> int:
        now = self._clock.now()
        async with self._db.sessions() as session:
            due = (
                (
                    await session.execute(
                        select(InstitutionCallback)
                        .where(InstitutionCallback.state == "pending", InstitutionCallback.next_attempt_at <= now)
                        .order_by(InstitutionCallback.next_attempt_at, InstitutionCallback.id)
                        .limit(self._batch)
                    )
                )
                .scalars()
                .all()
            )
        if not due:
            return 0
        results = await asyncio.gather(*(self._deliver(row) for row in due))
        async with self._db.transaction() as session:
            for row, (ok, error) in zip(due, results, strict=True):
                fresh = await session.get(InstitutionCallback, row.id, with_for_update=True)
                if fresh is None or fresh.state != "pending":
                    continue
                fresh.attempts += 1
                if ok:
                    fresh.state, fresh.delivered_at, fresh.last_error = "delivered", self._clock.now(), None
                    CALLBACKS.labels("delivered").inc()
                    continue
                fresh.last_error = (error or "failed")[:200]
                delay = min(MAX_DELAY, 2.0**fresh.attempts) * (0.5 + self._rng.random())
                if self._clock.now() + timedelta(seconds=delay) > fresh.created_at + GIVE_UP_AFTER:
                    fresh.state = "failed"
                    CALLBACKS.labels("failed").inc()
                    log.warning(
                        "callback %s to tenant %s given up after %d attempts", row.id, row.tenant_id, fresh.attempts
                    )
                else:
                    fresh.next_attempt_at = self._clock.now() + timedelta(seconds=delay)
                    CALLBACKS.labels("retry").inc()
        return len(due)

    async def _deliver(self, row: InstitutionCallback) -> tuple[bool, str | None]:
        endpoint = await self._endpoints.get(row.tenant_id)
        if endpoint is None or not endpoint.callback_url:
            return False, "no callback URL configured for the tenant"
        body = orjson.dumps(row.body)
        headers = {
            "Content-Type": "application/json",
            TENANT_HEADER: row.tenant_id,
            SIGNATURE_HEADER: signature_header(endpoint.secrets[0], int(self._clock.now().timestamp()), body),
        }
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._http.post(endpoint.callback_url, data=body, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True, None
                return False, f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return False, type(exc).__name__

    async def run_forever(self, *, idle_poll: float = 1.0) -> None:
        while True:
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("callback pass failed; retrying")
                sent = 0
                await asyncio.sleep(2.0)
            if sent:
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=idle_poll)
            except TimeoutError:
                pass

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
