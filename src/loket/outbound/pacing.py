"""GCRA pacing in one process: a theoretical arrival time per key, no background refill."""

from __future__ import annotations

import asyncio

from loket.clock import Clock, system_clock


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
