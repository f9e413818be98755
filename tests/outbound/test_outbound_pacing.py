"""Pacing in the dispatcher: the recipient's pair rate reschedules instead of holding a slot, and a
Redis that is down falls back to local pacing at the worker's share of the rate, saying so."""

from __future__ import annotations

import logging

import pytest
from outbound_support import make_world

from loket.clock import system_clock
from loket.db.engine import Database
from loket.outbound.outbox import Purpose
from loket.outbound.ratelimit import LocalGcra
from loket.outbound.ratelimit_redis import ResilientLimiter, build_rate_limiter
from outbound_fakes import ScriptedChannel


async def test_the_fourth_alert_in_a_burst_to_one_customer_waits_for_the_pair_rate(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    channel = ScriptedChannel()
    dispatcher = world.dispatcher(channel, pace=True, limiter=LocalGcra(clock=world.clock))
    for index in range(4):
        await world.queue(f"a{index}", text=f"alert {index}")
    await dispatcher.drain()
    rows = await world.rows()
    assert [r.state for r in rows] == ["sent", "sent", "sent", "queued"]
    assert rows[3].attempts == 0 and (rows[3].not_before - world.clock.now()).total_seconds() > 5
    world.clock.advance(6)
    await dispatcher.drain()
    assert [r.state for r in await world.rows()] == ["sent"] * 4


async def test_service_replies_are_not_paced_per_pair(db: Database) -> None:
    world = await make_world(db)
    await world.customer(wrote_at=world.clock.now())
    channel = ScriptedChannel()
    dispatcher = world.dispatcher(channel, pace=True, limiter=LocalGcra(clock=world.clock))
    for index in range(5):
        await world.queue(f"s{index}", purpose=Purpose.SERVICE, text=f"reply {index}")
    await dispatcher.drain()
    assert len(channel.sent) == 5


async def test_with_redis_down_sends_go_on_paced_locally_and_the_log_says_so(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    world = await make_world(db)
    for index in range(3):
        wa_id = f"62800000000{index:02d}"
        await world.customer(wa_id, customer_id=f"C-{index}", wrote_at=world.clock.now())
        await world.queue(f"a{index}", to=wa_id)
    limiter = build_rate_limiter("redis://127.0.0.1:1/0", worker_count=4, clock=system_clock)
    assert isinstance(limiter, ResilientLimiter)
    channel = ScriptedChannel()
    dispatcher = world.dispatcher(channel, pace=True, limiter=limiter)
    with caplog.at_level(logging.WARNING, logger="loket.outbound.ratelimit_redis"):
        await dispatcher.drain()
    await limiter.aclose()
    assert [r.state for r in await world.rows()] == ["sent"] * 3
    assert limiter.degraded
    assert any("pacing locally at 1/4" in record.getMessage() for record in caplog.records)
