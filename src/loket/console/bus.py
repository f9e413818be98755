"""Inbox events between processes: a small publish/subscribe port, in memory or over Redis.

An event is a small dict naming what changed (`{"kind": "handoff.created", "handoff_id": 7}`) and
never customer data: the console re-reads the database for what it shows. Subscribers of a tenant
receive that tenant's events only. With several `loket serve` / `loket worker` processes the Redis
implementation carries events between them (LOKET_REDIS_URL); each process fans out locally, so 200
open consoles cost one Redis subscription, not 200.

`publish_after_commit(session, ...)` publishes once the surrounding transaction commits, so no
console ever re-reads before the change is visible (and a rolled-back change is never announced).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)
QUEUE_SIZE = 256
CHANNEL_PREFIX = "loket:console:"
_PENDING = "loket.console.pending_events"

Event = dict[str, Any]


class InboxBus:
    """In-process fan-out; the base of the Redis bus."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = {}
        self._listeners: list[Callable[[str, Event], None]] = []

    def add_listener(self, listener: Callable[[str, Event], None]) -> None:
        """Called with every event this process hears, of any tenant (e.g. to wake the assigner)."""
        self._listeners.append(listener)

    async def publish(self, tenant_id: str, item: Event) -> None:
        self.deliver(tenant_id, item)

    def deliver(self, tenant_id: str, item: Event) -> None:
        for listener in self._listeners:
            listener(tenant_id, item)
        for queue in list(self._subscribers.get(tenant_id, ())):
            if queue.full():  # a stuck reader loses the oldest hint, never blocks the publisher
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(item)

    @contextlib.asynccontextmanager
    async def subscribe(self, tenant_id: str) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        await self._started()
        self._subscribers.setdefault(tenant_id, set()).add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(tenant_id, set())
            subscribers.discard(queue)
            if not subscribers:
                self._subscribers.pop(tenant_id, None)

    def subscriber_count(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    async def _started(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisInboxBus(InboxBus):
    """Publishes to Redis; one pattern subscription per process delivers to the local subscribers."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._client = aioredis.Redis.from_url(url, socket_connect_timeout=2)
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def publish(self, tenant_id: str, item: Event) -> None:
        try:
            await self._client.publish(CHANNEL_PREFIX + tenant_id, json.dumps(item))
        except (RedisError, OSError) as exc:
            # the event is only a hint: consoles of this process still hear it, the others on their next refresh
            log.warning("console event not published to Redis (%s); delivering locally", type(exc).__name__)
            self.deliver(tenant_id, item)

    async def _started(self) -> None:
        if self._reader is None or self._reader.done():
            self._ready.clear()
            self._reader = asyncio.create_task(self._read())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout=2)

    async def _read(self) -> None:
        while True:
            try:
                pubsub = self._client.pubsub()
                await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                self._ready.set()
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    tenant_id = _text(message["channel"])[len(CHANNEL_PREFIX) :]
                    with contextlib.suppress(ValueError):
                        self.deliver(tenant_id, json.loads(_text(message["data"])))
            except (RedisError, OSError) as exc:
                log.warning("console events: Redis subscription lost (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._client.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def bus_from_url(redis_url: str | None) -> InboxBus:
    return RedisInboxBus(redis_url) if redis_url else InboxBus()


_current: InboxBus | None = None
_in_flight: set[asyncio.Task[None]] = set()


def install_bus(bus: InboxBus) -> InboxBus:
    """Make `bus` the process's bus (the processor publishes handoffs on it)."""
    global _current
    _current = bus
    return bus


def current_bus() -> InboxBus | None:
    return _current


def ensure_bus(redis_url: str | None) -> InboxBus:
    """The installed bus, or a new one for `redis_url` installed now (serve and worker share it)."""
    return _current if _current is not None else install_bus(bus_from_url(redis_url))


def publish_after_commit(session: AsyncSession, tenant_id: str, item: Event) -> None:
    """Announce `item` to the tenant's consoles once `session`'s transaction has committed."""
    sync = session.sync_session
    pending: list[tuple[str, Event]] | None = sync.info.get(_PENDING)
    if pending is None:
        pending = sync.info[_PENDING] = []

        def committed(_: Any) -> None:
            items = sync.info.pop(_PENDING, [])
            bus = _current
            if bus is None or not items:
                return
            loop = asyncio.get_running_loop()
            for tenant, payload in items:
                task = loop.create_task(bus.publish(tenant, payload))
                _in_flight.add(task)
                task.add_done_callback(_in_flight.discard)

        def rolled_back(_: Any) -> None:
            sync.info.pop(_PENDING, None)

        event.listen(sync, "after_commit", committed, once=True)
        event.listen(sync, "after_rollback", rolled_back, once=True)
    pending.append((tenant_id, item))
