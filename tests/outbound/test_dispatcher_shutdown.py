"""The dispatcher's graceful stop (SIGTERM of `loket worker`): nothing more is claimed, rows waiting
for a rate slot go back to the queue, requests in flight finish within the grace period, and one
still unanswered after it is `unknown` (a status webhook settles it), never put back to be resent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from outbound_support import World, make_world

from loket.channel.port import SentMessage
from loket.db.engine import Database
from loket.outbound.claim import claim_rows
from loket.outbound.dispatcher import Dispatcher, Pacing
from loket.outbound.ratelimit import Booking

FAST, SLOW, STUCK, PACED = "628111", "628222", "628333", "628444"


class Wire:
    """A Graph API whose answer time depends on the recipient."""

    def __init__(self) -> None:
        self.arrived: list[str] = []

    async def send(self, phone_number_id: str, token: str, to: str, message: Any, **kwargs: Any) -> SentMessage:
        self.arrived.append(to)
        await asyncio.sleep({FAST: 0.0, SLOW: 0.2, STUCK: 3600.0}[to])
        return SentMessage(wamid=f"wamid.{to}", wa_id=to, message_status="accepted")

    async def mark_read(self, *args: Any, **kwargs: Any) -> None:
        return None


class SlowSlots:
    """A rate limiter whose slot for PACED is 0.9 s away (booked: the row waits in the pacer)."""

    async def book(self, key: str, rate: float, burst: int = 1, *, max_wait: float | None = None) -> Booking:
        return Booking(True, 0.9 if key.endswith(PACED) else 0.0, 0.0)

    async def hold(self, key: str, seconds: float) -> None:
        return None

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def world(db: Database) -> World:
    return await make_world(db)


async def test_shutdown_finishes_in_flight_sends_releases_the_rest_and_marks_the_stuck_unknown(world: World) -> None:
    for wa in (FAST, SLOW, STUCK, PACED):
        await world.customer(wa, customer_id=f"C-{wa}", wrote_at=world.clock.now())
        await world.queue(f"k-{wa}", to=wa)
    wire = Wire()
    dispatcher = Dispatcher(
        world.db,
        wire,  # type: ignore[arg-type]
        world.directory,
        clock=world.clock,
        pace=Pacing(enabled=True),
        limiter=SlowSlots(),  # type: ignore[arg-type]
    )
    assert await dispatcher.run_once() == 4
    for _ in range(50):
        if set(wire.arrived) == {FAST, SLOW, STUCK}:
            break
        await asyncio.sleep(0.01)
    report = await dispatcher.shutdown(grace=0.5)
    # FAST was answered before the stop; SLOW finishes within the grace, STUCK does not.
    assert (report.finished, report.unknown, report.released) == (1, 1, 1)
    states = {row.to_wa_id: (row.state, row.claimed_by) for row in await world.rows()}
    assert states == {
        FAST: ("sent", dispatcher.worker_id),
        SLOW: ("sent", dispatcher.worker_id),
        STUCK: ("unknown", dispatcher.worker_id),
        PACED: ("queued", None),
    }
    assert PACED not in wire.arrived
    loop = asyncio.create_task(dispatcher.run_forever(idle_poll=0.01))
    await asyncio.wait_for(loop, timeout=1)  # returns at once: it is stopping


async def test_a_stopped_dispatcher_leaves_the_queue_to_the_next_worker(world: World) -> None:
    await world.customer(FAST, customer_id="C-1", wrote_at=world.clock.now())
    await world.queue("k-1", to=FAST)
    first = Dispatcher(world.db, Wire(), world.directory, clock=world.clock, pace=False)  # type: ignore[arg-type]
    report = await first.shutdown(grace=1)
    assert report.released == 0 and (await world.rows())[0].state == "queued"
    wire = Wire()
    second = Dispatcher(world.db, wire, world.directory, clock=world.clock, pace=False)  # type: ignore[arg-type]
    await second.drain()
    assert wire.arrived == [FAST] and (await world.rows())[0].state == "sent"


async def test_a_claim_lost_in_transit_is_put_back_but_held_rows_are_not(world: World) -> None:
    for wa in (FAST, SLOW):
        await world.customer(wa, customer_id=f"C-{wa}", wrote_at=world.clock.now())
    await world.queue("k-held", to=FAST)
    dispatcher = Dispatcher(world.db, Wire(), world.directory, clock=world.clock, pace=False)  # type: ignore[arg-type]
    [held] = await dispatcher.claim(1)
    await world.queue("k-lost", to=SLOW)
    # The database committed this claim but the answer never reached the worker (a restart).
    [lost] = await claim_rows(world.db, dispatcher.worker_id, world.clock.now(), 1)
    assert await dispatcher.release_orphans() == 1
    states = {row.id: (row.state, row.claimed_by) for row in await world.rows()}
    assert states == {held.id: ("sending", dispatcher.worker_id), lost.id: ("queued", None)}
