"""GCRA pacing: the rate limiter protocol, its keys, and the in-process implementation.

GCRA keeps one "theoretical arrival time" (TAT) per key and no background refill: with emission
interval T = 1/rate and tolerance tau = T * (burst - 1), a request at `now` may go at
max(TAT, now) - tau, and books the TAT forward by T. `reserve` books a slot and says how long to
wait for it, so callers schedule instead of retrying in a loop (engineering anchors §3.2-3.3).
The shared (Redis) implementation and the fallback wrapper live in ratelimit_redis.py.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Protocol

from loket.clock import Clock, system_clock

# Meta's pair rate: about one message per 6 seconds to one user (error 131056), with a little
# burst for an alert followed at once by its confirmation request.
PAIR_RATE = 1 / 6
PAIR_BURST = 3
DEFAULT_SENDER_RATE = 80.0  # messages per second per number, Meta's default throughput


def sender_key(phone_number_id: str) -> str:
    return f"sender:{phone_number_id}"


def pair_key(phone_number_id: str, wa_id: str) -> str:
    """Contains the customer's WhatsApp id: never log a pair key, log its kind only."""
    return f"pair:{phone_number_id}:{wa_id}"


def key_kind(key: str) -> str:
    """The PII-free part of a key ("sender" or "pair"), for logs and metric labels."""
    return key.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Booking:
    booked: bool  # False only when the wait would have exceeded `max_wait`: nothing was reserved
    wait: float  # seconds from now until the slot (0 = go now)
    at: float  # the slot on the limiter's own clock (seconds), for tests and diagnostics


class RateLimiter(Protocol):
    async def book(self, key: str, rate_per_second: float, burst: int = 1, *, max_wait: float | None = None) -> Booking:
        """Reserve the next slot on `key`, unless it is more than `max_wait` seconds away."""
        ...

    async def reserve(
        self, key: str, rate_per_second: float, burst: int = 1, *, max_wait: float | None = None
    ) -> float:
        """Seconds to wait for the booked slot; a result above `max_wait` means nothing was booked."""
        ...

    async def acquire(self, key: str, rate_per_second: float, burst: int = 1) -> None:
        """Reserve a slot and sleep until it."""
        ...

    async def hold(self, key: str, seconds: float) -> None:
        """No slot on `key` for `seconds` from now (a number-wide back-off after Meta's 130429)."""
        ...

    async def aclose(self) -> None: ...


def check_rate(rate_per_second: float, burst: int) -> None:
    if not (rate_per_second > 0 and math.isfinite(rate_per_second)):
        raise ValueError("rate_per_second must be a positive number")
    if burst < 1:
        raise ValueError("burst must be at least 1")


def fallback_share(rate_per_second: float, burst: int, worker_count: int) -> tuple[float, int]:
    """One worker's share of a key's rate when the workers cannot coordinate (Redis down).

    rate / N, rounded down to a whole number per second when it is at least 1: N workers pacing
    independently at floor(rate/N)/s with no burst send at most N * floor(rate/N) <= rate in any
    one-second window, not just on average. The burst is split the same way, at least 1 each.
    """
    if worker_count < 1:
        raise ValueError("worker_count must be at least 1")
    share = rate_per_second / worker_count
    if share >= 1:
        share = float(math.floor(share))
    return share, max(1, burst // worker_count)


class LocalGcra:
    """GCRA in one process, on the injectable clock's monotonic time. Not shared between processes."""

    def __init__(self, *, clock: Clock = system_clock, prune_above: int = 10_000) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._prune_above = prune_above

    def book_now(self, key: str, rate_per_second: float, burst: int = 1, *, max_wait: float | None = None) -> Booking:
        check_rate(rate_per_second, burst)
        interval = 1.0 / rate_per_second
        now = self._clock.monotonic()
        tat = max(self._tat.get(key, now), now)
        allow_at = tat - interval * (burst - 1)
        wait = max(0.0, allow_at - now)
        if max_wait is not None and wait > max_wait:
            return Booking(booked=False, wait=wait, at=now + wait)
        self._tat[key] = tat + interval
        if len(self._tat) > self._prune_above:
            self._prune(now)
        return Booking(booked=True, wait=wait, at=now + wait)

    def hold_now(self, key: str, seconds: float) -> None:
        now = self._clock.monotonic()
        self._tat[key] = max(self._tat.get(key, now), now + max(0.0, seconds))

    async def hold(self, key: str, seconds: float) -> None:
        self.hold_now(key, seconds)

    def _prune(self, now: float) -> None:
        # A TAT in the past behaves exactly like no entry, so dropping it changes nothing.
        self._tat = {key: tat for key, tat in self._tat.items() if tat > now}
        self._prune_above = max(self._prune_above, 2 * len(self._tat))

    async def book(self, key: str, rate_per_second: float, burst: int = 1, *, max_wait: float | None = None) -> Booking:
        return self.book_now(key, rate_per_second, burst, max_wait=max_wait)

    async def reserve(
        self, key: str, rate_per_second: float, burst: int = 1, *, max_wait: float | None = None
    ) -> float:
        return self.book_now(key, rate_per_second, burst, max_wait=max_wait).wait

    async def acquire(self, key: str, rate_per_second: float, burst: int = 1) -> None:
        await sleep_for(self.book_now(key, rate_per_second, burst))

    async def aclose(self) -> None:
        return None

    def __len__(self) -> int:
        return len(self._tat)


async def sleep_for(booking: Booking) -> None:
    if booking.wait > 0:
        await asyncio.sleep(booking.wait)
