"""Pacing sends: the dispatcher's settings and the wait for a send's slots (the number's rate and,
for business-initiated purposes, the recipient's pair rate), and GCRA pacing in one process."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field

from loket.clock import Clock, system_clock
from loket.outbound.claim import Claimed
from loket.outbound.metrics import PACED, PACING_WAIT
from loket.outbound.outbox import READ_RECEIPT
from loket.outbound.policy_rules import Purpose
from loket.outbound.ratelimit import PAIR_BURST, PAIR_RATE, RateLimiter, pair_key, sender_key
from loket.tenancy.directory import NumberInfo


@dataclass(frozen=True, slots=True)
class Pacing:
    enabled: bool = True
    sender_headroom: float = 0.9  # pace a number at 90 % of its configured rate (timer jitter, fallback)
    sender_max_wait: float = 1.0  # a sender slot further away reschedules the row
    pair_max_wait: float = 0.25
    # Service replies answer the customer and rely on 131056 handling; the rest is paced up front.
    pair_paced: frozenset[Purpose] = field(default_factory=lambda: frozenset(Purpose) - {Purpose.SERVICE})

    def sender(self, number: NumberInfo) -> tuple[float, int]:
        configured = float(number.messages_per_second)
        return configured * self.sender_headroom, max(1, math.floor(configured * 0.05))


async def pace(limiter: RateLimiter, pacing: Pacing, row: Claimed, number: NumberInfo) -> float | None:
    """Wait for this send's slots; returns a delay when the row should be rescheduled instead (a
    slot further away than a moment: waiting for a rate is not an attempt, nor a held worker slot)."""
    rate, burst = pacing.sender(number)
    sender = await limiter.book(sender_key(row.phone_number_id), rate, burst, max_wait=pacing.sender_max_wait)
    if not sender.booked:
        PACED.labels("sender", "rescheduled").inc()
        return sender.wait
    wait = sender.wait
    if row.kind != READ_RECEIPT and row.purpose_enum in pacing.pair_paced:
        pair = await limiter.book(
            pair_key(row.phone_number_id, row.to_wa_id), PAIR_RATE, PAIR_BURST, max_wait=pacing.pair_max_wait
        )
        if not pair.booked:
            PACED.labels("pair", "rescheduled").inc()
            return pair.wait
        wait = max(wait, pair.wait)
    if wait > 0:
        PACED.labels("sender", "waited").inc()
        PACING_WAIT.observe(wait)
        await asyncio.sleep(wait)
    return None


class LocalPacer:
    """Spaces sends on `key` to at most `rate` per second, allowing a burst of `burst`."""

    def __init__(self, *, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}

    def reserve(self, key: str, rate: float, burst: int = 1) -> float:
        """Book the next slot on `key`; returns how many seconds to wait before using it."""
        interval = 1.0 / rate
        now = self._clock.monotonic()
        tat = max(self._tat.get(key, now), now)
        allow_at = tat - interval * (burst - 1)
        self._tat[key] = tat + interval
        return max(0.0, allow_at - now)

    async def acquire(self, key: str, rate: float, burst: int = 1) -> None:
        delay = self.reserve(key, rate, burst)
        if delay > 0:
            await asyncio.sleep(delay)
