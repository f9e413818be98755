"""GCRA shared through Redis, and the wrapper that falls back to safe local pacing when it is down.

One Lua script books a slot atomically, with Redis `TIME` as the one clock every worker shares,
so N processes together never exceed a key's rate. Keys are `loket:gcra:{key}` and expire once
their theoretical arrival time has passed (an expired key and a past TAT mean the same thing).
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from loket.clock import Clock, system_clock
from loket.outbound.ratelimit import Booking, LocalGcra, RateLimiter, check_rate, fallback_share, sleep_for

log = logging.getLogger(__name__)

KEY_PREFIX = "loket:gcra:"
_MICROS = 1_000_000

# KEYS[1]: the key. ARGV: emission interval and tolerance in microseconds, the longest acceptable
# wait in microseconds (-1: any). Returns {booked 0/1, wait us, server now us}.
_GCRA = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if max_wait >= 0 and wait > max_wait then return {0, wait, now} end
local new_tat = tat + interval
local ttl_ms = math.ceil((new_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', ttl_ms)
return {1, wait, now}
"""

# KEYS[1]: the key. ARGV[1]: the hold in microseconds. Moves the TAT to at least now + hold.
_HOLD = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
local until_us = now + tonumber(ARGV[1])
if tat and tat > until_us then return 0 end
local ttl_ms = math.ceil((until_us - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', until_us), 'PX', ttl_ms)
return 1
"""

# What "Redis is not there" looks like: refused or reset connections, timeouts, and server-side
# refusals (LOADING, READONLY, OOM) that are RedisErrors too.
SHARED_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


class RedisGcra:
    """GCRA on Redis; its `at` values are Redis server time in seconds since the epoch."""

    def __init__(self, client: aioredis.Redis, *, prefix: str = KEY_PREFIX) -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_GCRA)
        self._hold = client.register_script(_HOLD)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 0.5, prefix: str = KEY_PREFIX) -> RedisGcra:
        """A client that fails fast: short timeouts, one immediate retry (for a pooled connection
        that went stale in a Redis restart), not redis-py's default multi-second back-off."""
        client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        return cls(client, prefix=prefix)

    async def book(self, key: str, rate_per_second: float, burst: int = 1, *, max_wait: float | None = None) -> Booking:
        check_rate(rate_per_second, burst)
        # Rounding the interval up keeps the booked rate at or under the configured one.
        interval = math.ceil(_MICROS / rate_per_second)
        limit = -1 if max_wait is None else max(0, math.floor(max_wait * _MICROS))
        reply = cast(
            "list[Any]",
            await self._script(keys=[self._prefix + key], args=[interval, interval * (burst - 1), limit]),
        )
        booked, wait, now = (int(part) for part in reply)
        return Booking(booked=bool(booked), wait=wait / _MICROS, at=(now + wait) / _MICROS)

    async def reserve(
        self, key: str, rate_per_second: float, burst: int = 1, *, max_wait: float | None = None
    ) -> float:
        return (await self.book(key, rate_per_second, burst, max_wait=max_wait)).wait

    async def acquire(self, key: str, rate_per_second: float, burst: int = 1) -> None:
        await sleep_for(await self.book(key, rate_per_second, burst))

    async def hold(self, key: str, seconds: float) -> None:
        await self._hold(keys=[self._prefix + key], args=[max(0, math.ceil(seconds * _MICROS))])

    async def aclose(self) -> None:
        await self._client.aclose()


class ResilientLimiter:
    """The shared limiter while it answers; local pacing at 1/N of each rate while it does not.

    N is the number of workers sharing the rates, so N workers that all lost Redis still stay
    under every cap together. One warning when Redis is lost, one line when it is back; while it
    is down one call per `retry_interval` tries Redis again and the rest go straight to local.
    """

    def __init__(
        self,
        shared: RateLimiter,
        *,
        worker_count: int = 1,
        clock: Clock = system_clock,
        retry_interval: float = 5.0,
        call_timeout: float = 1.0,
    ) -> None:
        fallback_share(1.0, 1, worker_count)  # validates worker_count
        self._shared = shared
        self._local = LocalGcra(clock=clock)
        self._workers = worker_count
        self._clock = clock
        self._retry_interval = retry_interval
        self._call_timeout = call_timeout
        self._degraded_since: float | None = None
        self._retry_at = 0.0

    @property
    def degraded(self) -> bool:
        """True while pacing locally (for health checks and metrics)."""
        return self._degraded_since is not None

    async def book(self, key: str, rate_per_second: float, burst: int = 1, *, max_wait: float | None = None) -> Booking:
        check_rate(rate_per_second, burst)
        if self._degraded_since is not None:
            if self._clock.monotonic() < self._retry_at:
                return self._book_locally(key, rate_per_second, burst, max_wait)
            self._retry_at = self._clock.monotonic() + self._retry_interval  # this call is the probe
        try:
            async with asyncio.timeout(self._call_timeout):
                booking = await self._shared.book(key, rate_per_second, burst, max_wait=max_wait)
        except SHARED_FAILURES as exc:
            self._lost(exc)
            return self._book_locally(key, rate_per_second, burst, max_wait)
        if self._degraded_since is not None:
            log.info(
                "Redis is reachable again: shared rate limiting resumed after %.1f s of local pacing",
                self._clock.monotonic() - self._degraded_since,
            )
            self._degraded_since = None
        return booking

    def _lost(self, exc: BaseException) -> None:
        if self._degraded_since is not None:
            return
        self._degraded_since = self._clock.monotonic()
        self._retry_at = self._degraded_since + self._retry_interval
        log.warning(
            "Redis is unreachable for rate limiting (%s): pacing locally at 1/%d of each configured rate "
            "(%d workers), so the workers together stay under the caps; retrying Redis every %.0f s",
            type(exc).__name__,
            self._workers,
            self._workers,
            self._retry_interval,
        )

    def _book_locally(self, key: str, rate: float, burst: int, max_wait: float | None) -> Booking:
        share, share_burst = fallback_share(rate, burst, self._workers)
        return self._local.book_now(key, share, share_burst, max_wait=max_wait)

    async def reserve(
        self, key: str, rate_per_second: float, burst: int = 1, *, max_wait: float | None = None
    ) -> float:
        return (await self.book(key, rate_per_second, burst, max_wait=max_wait)).wait

    async def acquire(self, key: str, rate_per_second: float, burst: int = 1) -> None:
        await sleep_for(await self.book(key, rate_per_second, burst))

    async def hold(self, key: str, seconds: float) -> None:
        """Held locally always (this worker backs off at once), and in Redis for the others."""
        self._local.hold_now(key, seconds)
        if self._degraded_since is not None and self._clock.monotonic() < self._retry_at:
            return
        try:
            async with asyncio.timeout(self._call_timeout):
                await self._shared.hold(key, seconds)
        except SHARED_FAILURES as exc:
            self._lost(exc)

    async def aclose(self) -> None:
        await self._shared.aclose()


def build_rate_limiter(
    redis_url: str | None,
    *,
    worker_count: int = 1,
    clock: Clock = system_clock,
) -> LocalGcra | ResilientLimiter:
    """Local GCRA for one process (SQLite mode); Redis-shared with the local fallback otherwise."""
    if not redis_url:
        return LocalGcra(clock=clock)
    return ResilientLimiter(RedisGcra.from_url(redis_url), worker_count=worker_count, clock=clock)
