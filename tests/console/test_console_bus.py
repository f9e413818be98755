"""The inbox bus: tenants only hear their own events, a slow reader never blocks the publisher, and
over Redis (LOKET_TEST_REDIS_URL, default the local one) two processes' buses hear each other."""

from __future__ import annotations

import asyncio
import os

import pytest
import redis.asyncio as aioredis

from loket.console.bus import QUEUE_SIZE, InboxBus, RedisInboxBus

REDIS_URL = os.environ.get("LOKET_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def test_memory_bus_keeps_tenants_apart_and_never_blocks() -> None:
    bus = InboxBus()
    heard: list[tuple[str, str]] = []
    bus.add_listener(lambda tenant, item: heard.append((tenant, str(item["kind"]))))
    async with bus.subscribe("a") as queue_a, bus.subscribe("b") as queue_b:
        await bus.publish("a", {"kind": "handoff.created", "handoff_id": 1})
        assert (await queue_a.get())["handoff_id"] == 1
        assert queue_b.empty()
        for number in range(QUEUE_SIZE + 10):  # nobody reads: the oldest hints are dropped
            await bus.publish("a", {"kind": "x", "n": number})
        assert queue_a.qsize() == QUEUE_SIZE
        assert (await queue_a.get())["n"] == 10
    assert bus.subscriber_count() == 0
    assert heard[0] == ("a", "handoff.created")


async def test_redis_bus_carries_events_between_processes() -> None:
    probe = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await probe.ping()
    except Exception as exc:
        pytest.fail(f"Redis is required at {REDIS_URL} (set LOKET_TEST_REDIS_URL): {exc!r}")
    finally:
        await probe.aclose()
    serve, worker = RedisInboxBus(REDIS_URL), RedisInboxBus(REDIS_URL)
    tenant = f"t-{os.getpid()}"
    try:
        async with serve.subscribe(tenant) as queue, serve.subscribe(tenant + "-other") as other:
            await worker.publish(tenant, {"kind": "handoff.created", "handoff_id": 5})
            item = await asyncio.wait_for(queue.get(), timeout=5)
            assert item == {"kind": "handoff.created", "handoff_id": 5}
            await asyncio.sleep(0.2)
            assert other.empty()
    finally:
        await serve.close()
        await worker.close()


async def test_redis_bus_delivers_locally_when_redis_is_down() -> None:
    bus = RedisInboxBus("redis://127.0.0.1:1/0")
    try:
        async with bus.subscribe("a") as queue:
            await bus.publish("a", {"kind": "handoff.created", "handoff_id": 9})
            assert (await asyncio.wait_for(queue.get(), timeout=5))["handoff_id"] == 9
    finally:
        await bus.close()
