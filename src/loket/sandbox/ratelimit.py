"""GCRA (generic cell rate algorithm) on the injected clock's monotonic time: one theoretical arrival
time per key, so throughput and pair-rate checks cost O(1) and need no timers."""

from __future__ import annotations

from collections.abc import Hashable

_PRUNE_AT = 50_000


class Gcra:
    def __init__(self) -> None:
        self._tat: dict[Hashable, float] = {}

    def allow(self, key: Hashable, now: float, interval: float, burst: int) -> bool:
        """Admit one event at `now` if at most `burst` events fit back to back at one per `interval`."""
        if interval <= 0:
            return True
        tolerance = interval * (max(1, burst) - 1)
        tat = max(self._tat.get(key, now), now)
        if tat - now > tolerance + 1e-9:
            return False
        self._tat[key] = tat + interval
        if len(self._tat) > _PRUNE_AT:
            self._prune(now)
        return True

    def _prune(self, now: float) -> None:
        for key in [k for k, tat in self._tat.items() if tat <= now]:
            del self._tat[key]

    def clear(self) -> None:
        self._tat.clear()
