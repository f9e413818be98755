"""Timers on the injected clock, for the emulated world's own delays (auto-read, template review).

With a FakeClock nothing fires until the clock is advanced; `run_due` then fires what became due. The
background loop polls briefly so that advancing the clock directly in a test is noticed too."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from loket.clock import Clock

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.02


@dataclass(order=True, slots=True)
class Timer:
    due: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(self._clock.monotonic() + max(0.0, delay), next(self._seq), callback)
        heapq.heappush(self._heap, timer)
        self._wake.set()
        return timer

    def run_due(self) -> int:
        fired = 0
        now = self._clock.monotonic()
        while self._heap and self._heap[0].due <= now:
            timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            try:
                timer.callback()
            except Exception:
                log.exception("sandbox timer failed")
            fired += 1
        return fired

    def pending(self) -> int:
        return sum(1 for timer in self._heap if not timer.cancelled)

    def clear(self) -> None:
        self._heap.clear()

    async def run_forever(self) -> None:
        while True:
            self.run_due()
            self._wake.clear()
            wait = _POLL_SECONDS
            if self._heap:
                wait = min(wait, max(0.0, self._heap[0].due - self._clock.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
