"""The automatic assigner of one process: wakes on inbox events (a new handoff, an agent becoming
available, a conversation closed) and every few seconds regardless, and runs a round-robin pass.

Several processes may each run one: the conditional updates in `assignment` keep it correct.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from loket.clock import Clock
from loket.console.assignment import auto_assign
from loket.console.bus import Event, InboxBus
from loket.db.engine import Database
from loket.db.scope import SystemReason, system_scope

log = logging.getLogger(__name__)
SWEEP_SECONDS = 5.0
_IGNORED = frozenset({"handoff.assigned"})  # its own announcements


class Assigner:
    def __init__(self, db: Database, clock: Clock, bus: InboxBus, *, sweep_seconds: float = SWEEP_SECONDS) -> None:
        self._db = db
        self._clock = clock
        self._sweep = sweep_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        bus.add_listener(self._heard)

    def _heard(self, _tenant_id: str, item: Event) -> None:
        if item.get("kind") not in _IGNORED:
            self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def run_once(self) -> list[int]:
        with system_scope(SystemReason.SCHEDULER):
            return await auto_assign(self._db, self._clock.now())

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                assigned = await self.run_once()
                if assigned:
                    log.info("auto-assigned %d conversations", len(assigned))
            except Exception:
                log.exception("auto-assignment pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._sweep)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def ensure_assigner(app_state: Any, db: Database, clock: Clock, bus: InboxBus) -> Assigner:
    """The app's assigner, started on first use (inside the running event loop)."""
    assigner: Assigner | None = getattr(app_state, "console_assigner", None)
    if assigner is None:
        assigner = Assigner(db, clock, bus)
        app_state.console_assigner = assigner
    assigner.start()
    return assigner
