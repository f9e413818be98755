"""A numbered log of what happened in the sandbox, so the page (and tests) can follow it live, either as
server-sent events or by long-polling with the last sequence number seen."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

JsonObject = dict[str, Any]


class EventLog:
    def __init__(self, size: int = 2000) -> None:
        self._events: deque[JsonObject] = deque(maxlen=size)
        self._seq = 0
        self._wake = asyncio.Event()

    @property
    def last_seq(self) -> int:
        return self._seq

    def publish(self, kind: str, data: JsonObject) -> None:
        self._seq += 1
        self._events.append({"seq": self._seq, "kind": kind, "data": data})
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    def since(self, after: int) -> list[JsonObject]:
        return [event for event in self._events if event["seq"] > after]

    async def wait(self, after: int, within: float) -> list[JsonObject]:
        wake = self._wake
        events = self.since(after)
        if events or within <= 0:
            return events
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), within)
        return self.since(after)

    def clear(self) -> None:
        self._events.clear()
