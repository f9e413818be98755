"""GCRA on the real Redis (LOKET_TEST_REDIS_URL, default the local one): exact slots, many
processes sharing one key, and the fallback when Redis is absent or stops answering mid-way.
These tests fail, not skip, without Redis; only the dead-port test does without it on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from loket.clock import FakeClock
from loket.outbound.ratelimit import LocalGcra
from loket.outbound.ratelimit_redis import KEY_PREFIX, RedisGcra, ResilientLimiter, build_rate_limiter

REDIS_URL = os.environ.get("LOKET_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKER = Path(__file__).with_name("gcra_worker.py")
LOGGER = "loket.outbound.ratelimit_redis"
MICROS = 1_000_000


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        pytest.fail(f"Redis is required at {REDIS_URL} (set LOKET_TEST_REDIS_URL): {exc!r}")
    finally:
        await client.aclose()
    yield REDIS_URL


@pytest.fixture
def key() -> str:
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture
async def gcra(redis_url: str, key: str) -> AsyncIterator[RedisGcra]:
    limiter = RedisGcra.from_url(redis_url)
    yield limiter
    client = aioredis.Redis.from_url(redis_url)
    await client.delete(KEY_PREFIX + key)
    await client.aclose()
    await limiter.aclose()


def micros(seconds: float) -> int:
    return round(seconds * MICROS)


def max_in_any_window(slots_us: list[int], window_us: int) -> int:
    """The most slots in any half-open window [t, t + window) (it suffices to start at a slot)."""
    ordered = sorted(slots_us)
    most, end = 0, 0
    for start, slot in enumerate(ordered):
        end = max(end, start)
        while end < len(ordered) and ordered[end] < slot + window_us:
            end += 1
        most = max(most, end - start)
    return most


async def test_exact_gcra_slots_on_the_server_clock(gcra: RedisGcra, key: str) -> None:
    bookings = [await gcra.book(key, 10, burst=3) for _ in range(6)]
    assert all(booking.booked for booking in bookings)
    assert [booking.wait for booking in bookings[:3]] == [0.0, 0.0, 0.0]
    first = micros(bookings[0].at)
    # After the burst, slots are exactly one emission interval (100 ms) apart on Redis' clock.
    assert [micros(booking.at) - first for booking in bookings[3:]] == [100_000, 200_000, 300_000]
    assert bookings[5].wait == pytest.approx(0.3, abs=0.05)


async def test_max_wait_on_redis_books_nothing(gcra: RedisGcra, key: str) -> None:
    assert (await gcra.book(key, 1)).booked
    refused = await gcra.book(key, 1, max_wait=0.5)
    assert not refused.booked
    assert refused.wait == pytest.approx(1.0, abs=0.05)
    again = await gcra.book(key, 1, max_wait=2.0)
    assert again.booked
    assert micros(again.at) == micros(refused.at)  # the refused call did not move the TAT


async def test_keys_are_prefixed_and_expire(gcra: RedisGcra, key: str, redis_url: str) -> None:
    await gcra.book(key, 0.5)  # TAT two seconds ahead
    client = aioredis.Redis.from_url(redis_url)
    try:
        ttl = await client.pttl(KEY_PREFIX + key)
    finally:
        await client.aclose()
    assert 2_000 < ttl <= 3_000


async def test_many_connections_never_exceed_the_rate(gcra: RedisGcra, key: str, redis_url: str) -> None:
    rate = 50
    clients = [RedisGcra.from_url(redis_url) for _ in range(10)]
    try:
        bookings = await asyncio.gather(*(client.book(key, rate) for client in clients for _ in range(15)))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    slots = [micros(booking.at) for booking in bookings]
    assert len(set(slots)) == len(slots)
    ordered = sorted(slots)
    assert min(b - a for a, b in itertools.pairwise(ordered)) >= MICROS // rate
    assert max_in_any_window(slots, MICROS) == rate


async def test_processes_together_never_exceed_the_rate(redis_url: str, key: str) -> None:
    rate, processes, clients, per_client = 40, 4, 5, 6
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            redis_url,
            key,
            str(rate),
            str(clients),
            str(per_client),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    sent: list[tuple[float, float]] = []
    for proc in procs:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, err.decode()
        sent.extend(tuple(pair) for pair in json.loads(out))
    client = aioredis.Redis.from_url(redis_url)
    await client.delete(KEY_PREFIX + key)
    await client.aclose()

    assert len(sent) == processes * clients * per_client
    slots = [micros(slot) for slot, _ in sent]
    assert len(set(slots)) == len(slots)
    ordered = sorted(slots)
    assert min(b - a for a, b in itertools.pairwise(ordered)) >= MICROS // rate
    assert max_in_any_window(slots, MICROS) <= rate
    # Every client waited for its slot (Redis TIME and time.time() are the same host clock).
    assert all(went >= slot - 0.002 for slot, went in sent)


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_redis_gcra_on_a_dead_port_raises_a_connection_error() -> None:
    gcra = RedisGcra.from_url(f"redis://127.0.0.1:{dead_port()}/0", timeout=0.2)
    try:
        with pytest.raises(RedisConnectionError):
            await gcra.book("k", 1)
    finally:
        await gcra.aclose()


async def test_dead_port_falls_back_to_the_local_share_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    limiter = build_rate_limiter(f"redis://127.0.0.1:{dead_port()}/0", worker_count=4, clock=clock)
    assert isinstance(limiter, ResilientLimiter)
    try:
        with caplog.at_level(logging.INFO, logger=LOGGER):
            waits = [await limiter.reserve("sender:1001", 80) for _ in range(5)]
            clock.advance(5.0)
            await limiter.reserve("sender:1001", 80)  # one retry, still down: no second warning
    finally:
        await limiter.aclose()
    assert waits == pytest.approx([0.0, 0.05, 0.10, 0.15, 0.20])
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert "1/4" in caplog.records[0].getMessage()


def test_without_a_redis_url_pacing_is_local() -> None:
    assert isinstance(build_rate_limiter(None), LocalGcra)
    assert isinstance(build_rate_limiter(""), LocalGcra)


class FreezableProxy:
    """A TCP proxy to Redis that can stop answering (it keeps the connections and drops the bytes)."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._db = parts.path
        self.frozen = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}{self._db}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                if not self.frozen:
                    sink.write(data)
                    await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_redis_that_stops_answering_mid_way(redis_url: str, key: str, caplog: pytest.LogCaptureFixture) -> None:
    proxy = FreezableProxy(redis_url)
    url = await proxy.start()
    clock = FakeClock()
    limiter = ResilientLimiter(
        RedisGcra.from_url(url, timeout=0.2), worker_count=2, clock=clock, retry_interval=5.0, call_timeout=1.0
    )
    try:
        with caplog.at_level(logging.INFO, logger=LOGGER):
            shared = [await limiter.book(key, 10) for _ in range(3)]
            assert not limiter.degraded
            assert shared[0].at > 1e9  # Redis server time (epoch seconds), not the fake monotonic clock

            proxy.frozen = True
            stalled = await limiter.book(key, 10)
            assert limiter.degraded
            assert stalled.at < 1e6  # the local clock now
            local = [await limiter.book(key, 10) for _ in range(3)]
            assert [booking.wait for booking in local] == pytest.approx([0.2, 0.4, 0.6])  # 5/s: half of 10

            proxy.frozen = False
            clock.advance(5.0)
            back = await limiter.book(key, 10)
            assert not limiter.degraded
            assert back.at > 1e9
    finally:
        await limiter.aclose()
        await proxy.close()
        client = aioredis.Redis.from_url(redis_url)
        await client.delete(KEY_PREFIX + key)
        await client.aclose()
    levels = [record.levelno for record in caplog.records]
    assert levels == [logging.WARNING, logging.INFO]
    assert "unreachable" in caplog.records[0].getMessage()
    assert "reachable again" in caplog.records[1].getMessage()
