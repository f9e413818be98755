"""Signed webhook delivery to the business, at least once, with Meta's habits on demand.

Each body is signed with the app secret over the exact bytes sent. First attempts go out on lanes keyed
by customer, so one customer's events arrive in order unless fault mode says otherwise; a failed delivery
leaves its lane and is retried on its own with exponential back-off and jitter. Fault mode adds
duplicates, random reordering within a window, and a fixed delay. Transport timing is real time, not the
injected clock: it is about sockets, not about the emulated world."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
import orjson

from loket.channel.signature import SIGNATURE_HEADER, sign
from loket.clock import Clock
from loket.sandbox.chats import epoch
from loket.sandbox.events import EventLog
from loket.sandbox.settings import SandboxSettings

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]


@dataclass(slots=True)
class Attempt:
    at: datetime
    status: int | None
    error: str | None
    duration_ms: float

    def as_dict(self) -> JsonObject:
        return {
            "timestamp": epoch(self.at),
            "status": self.status,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 2),
        }


@dataclass(slots=True)
class Delivery:
    id: int
    key: str
    topic: str
    summary: JsonObject
    body: bytes
    created_at: datetime
    duplicate_of: int | None = None
    state: str = "pending"  # pending | delivered | failed | skipped
    attempts: list[Attempt] = field(default_factory=list)
    not_before: float = 0.0

    def as_dict(self, *, with_body: bool = True) -> JsonObject:
        data: JsonObject = {
            "id": self.id,
            "field": self.topic,
            "summary": self.summary,
            "state": self.state,
            "created_at": epoch(self.created_at),
            "duplicate_of": self.duplicate_of,
            "attempts": [attempt.as_dict() for attempt in self.attempts],
        }
        if with_body:
            data["body"] = orjson.loads(self.body)
        return data


class WebhookDispatcher:
    def __init__(self, settings: SandboxSettings, clock: Clock, events: EventLog, rng: random.Random) -> None:
        self._settings = settings
        self._clock = clock
        self._events = events
        self._rng = rng
        self._log: OrderedDict[int, Delivery] = OrderedDict()
        self._next_id = 1
        self._lanes: list[asyncio.Queue[Delivery]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._busy = 0

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._session is not None:
            return
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._settings.webhook_timeout_seconds),
            connector=aiohttp.TCPConnector(limit=64),
        )
        self._lanes = [asyncio.Queue() for _ in range(max(1, self._settings.webhook_lanes))]
        self._workers = [asyncio.create_task(self._lane_worker(lane)) for lane in self._lanes]

    async def stop(self) -> None:
        tasks = [*self._workers, *self._tasks]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------ submitting

    def submit(self, envelope: JsonObject, key: str, summary: JsonObject) -> Delivery:
        field_name = str(envelope["entry"][0]["changes"][0]["field"])
        delivery = self._record(key, field_name, summary, orjson.dumps(envelope), None)
        self._route(delivery)
        if self._rng.random() < self._settings.faults.duplicate_probability:
            duplicate = self._record(key, field_name, summary, delivery.body, delivery.id)
            self._route(duplicate)
        return delivery

    def _record(self, key: str, field_name: str, summary: JsonObject, body: bytes, dup: int | None) -> Delivery:
        delivery = Delivery(self._next_id, key, field_name, summary, body, self._clock.now(), dup)
        self._next_id += 1
        self._log[delivery.id] = delivery
        while len(self._log) > self._settings.delivery_log_size:
            self._log.popitem(last=False)
        return delivery

    def _route(self, delivery: Delivery) -> None:
        if not self._settings.webhook_url:
            delivery.state = "skipped"
            self._publish(delivery)
            return
        faults = self._settings.faults
        delay = faults.delay_seconds
        if faults.reorder_window_seconds > 0:
            # Leaving the lane with a random head start is what reorders deliveries.
            delay += self._rng.uniform(0.0, faults.reorder_window_seconds)
            self._spawn(self._deliver_later(delivery, delay))
            return
        delivery.not_before = time.monotonic() + delay
        if not self._lanes:
            self._spawn(self._deliver_later(delivery, delay))
            return
        lane = self._lanes[zlib.crc32(delivery.key.encode()) % len(self._lanes)]
        self._busy += 1
        lane.put_nowait(delivery)

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ delivering

    async def _lane_worker(self, lane: asyncio.Queue[Delivery]) -> None:
        while True:
            delivery = await lane.get()
            try:
                wait = delivery.not_before - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not await self._attempt(delivery):
                    self._spawn(self._retry(delivery))
            finally:
                self._busy -= 1

    async def _deliver_later(self, delivery: Delivery, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        if not await self._attempt(delivery):
            await self._retry(delivery)

    async def _retry(self, delivery: Delivery) -> None:
        policy = self._settings.webhook_retry
        while len(delivery.attempts) < policy.max_attempts:
            await asyncio.sleep(policy.delay(len(delivery.attempts), self._rng))
            if await self._attempt(delivery):
                return
        delivery.state = "failed"
        log.warning("sandbox webhook %s given up after %d attempts", delivery.id, len(delivery.attempts))
        self._publish(delivery)

    async def _attempt(self, delivery: Delivery) -> bool:
        url = self._settings.webhook_url
        if self._session is None or not url:
            delivery.state = "skipped"
            return True
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            SIGNATURE_HEADER: sign(delivery.body, self._settings.app_secret.encode()),
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            async with self._session.post(url, data=delivery.body, headers=headers) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = type(exc).__name__
        elapsed = (time.perf_counter() - started) * 1000
        delivery.attempts.append(Attempt(self._clock.now(), status, error, elapsed))
        if status == 200:
            delivery.state = "delivered"
        self._publish(delivery)
        return status == 200

    def _publish(self, delivery: Delivery) -> None:
        self._events.publish("webhook", delivery.as_dict(with_body=False))

    # ------------------------------------------------------------ inspection

    def deliveries(self) -> list[Delivery]:
        return list(self._log.values())

    def idle(self) -> bool:
        return self._busy == 0 and not self._tasks

    async def wait_idle(self, within: float = 5.0) -> bool:
        deadline = time.monotonic() + within
        while not self.idle():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def clear(self) -> None:
        self._log.clear()
