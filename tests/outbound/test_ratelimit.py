"""GCRA arithmetic on a fake clock, the fallback share, and the Redis-down wrapper's behaviour
with a stand-in for the shared limiter (the real Redis is in test_ratelimit_redis.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from loket.clock import FakeClock
from loket.outbound.ratelimit import (
    PAIR_BURST,
    PAIR_RATE,
    Booking,
    LocalGcra,
    fallback_share,
    key_kind,
    pair_key,
    sender_key,
)
from loket.outbound.ratelimit_redis import ResilientLimiter

LOGGER = "loket.outbound.ratelimit_redis"


def test_gcra_spaces_requests_by_the_emission_interval() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock=clock)
    waits = [gcra.book_now("k", 10) for _ in range(4)]
    assert [booking.wait for booking in waits] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert [booking.at - clock.monotonic() for booking in waits] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    clock.advance(0.25)
    # TAT is now start + 0.4; 0.25 s later the next slot is 0.15 s away.
    assert gcra.book_now("k", 10).wait == pytest.approx(0.15)


def test_gcra_burst_then_steady_rate() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock=clock)
    waits = [gcra.book_now("k", 10, burst=3).wait for _ in range(6)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2, 0.3])
    clock.advance(10)  # idle: the whole burst is available again, no more
    waits = [gcra.book_now("k", 10, burst=3).wait for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.1])


def test_gcra_steady_state_under_the_rate_never_waits() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock=clock)
    for _ in range(100):
        assert gcra.book_now("k", 10).wait == 0.0
        clock.advance(0.1)


def test_keys_are_independent() -> None:
    gcra = LocalGcra(clock=FakeClock())
    assert gcra.book_now("a", 1).wait == 0.0
    assert gcra.book_now("b", 1).wait == 0.0
    assert gcra.book_now("a", 1).wait == pytest.approx(1.0)


def test_max_wait_books_nothing_when_the_slot_is_too_far() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock=clock)
    assert gcra.book_now("pair", PAIR_RATE, 1).booked
    refused = gcra.book_now("pair", PAIR_RATE, 1, max_wait=1.0)
    assert not refused.booked
    assert (refused.wait, refused.at) == pytest.approx((6.0, clock.monotonic() + 6.0))
    # Nothing was booked: the slot is still 6 s away, not 12.
    assert gcra.book_now("pair", PAIR_RATE, 1, max_wait=6.0).wait == pytest.approx(6.0)
    assert gcra.book_now("pair", PAIR_RATE, 1, max_wait=6.0).booked is False


def test_the_pair_rate_allows_a_small_burst() -> None:
    gcra = LocalGcra(clock=FakeClock())
    waits = [gcra.book_now(pair_key("1001", "62811"), PAIR_RATE, PAIR_BURST).wait for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 6.0, 12.0])


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (float("inf"), 1), (float("nan"), 1), (1, 0)])
def test_bad_rates_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        LocalGcra(clock=FakeClock()).book_now("k", rate, burst)


def test_idle_keys_are_pruned() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock=clock, prune_above=10)
    for index in range(10):
        gcra.book_now(f"k{index}", 1)
    clock.advance(2)
    gcra.book_now("fresh", 1)  # the eleventh key triggers a prune of the ten idle ones
    assert len(gcra) == 1


async def test_acquire_sleeps_for_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    gcra = LocalGcra(clock=FakeClock())
    await gcra.acquire("k", 4)
    await gcra.acquire("k", 4)
    assert slept == [pytest.approx(0.25)]
    assert await gcra.reserve("k", 4) == pytest.approx(0.5)


def test_keys() -> None:
    assert sender_key("1001") == "sender:1001"
    assert pair_key("1001", "6281234") == "pair:1001:6281234"
    assert key_kind(pair_key("1001", "6281234")) == "pair"


@pytest.mark.parametrize(
    ("rate", "burst", "workers", "expected"),
    [
        (80, 1, 1, (80.0, 1)),
        (80, 1, 3, (26.0, 1)),  # 3 x 26 = 78 <= 80 in every second, not 3 x 26.67 on average
        (80, 1, 4, (20.0, 1)),
        (1000, 10, 3, (333.0, 3)),
        (PAIR_RATE, PAIR_BURST, 3, (pytest.approx(1 / 18), 1)),
        (2, 1, 3, (pytest.approx(2 / 3), 1)),
    ],
)
def test_fallback_share(rate: float, burst: int, workers: int, expected: tuple[float, int]) -> None:
    assert fallback_share(rate, burst, workers) == expected


def test_fallback_share_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="worker_count"):
        fallback_share(80, 1, 0)


class StandIn:
    """A shared limiter that can be broken and mended."""

    def __init__(self) -> None:
        self.failure: BaseException | None = None
        self.hang = False
        self.calls = 0

    async def book(self, key: str, rate_per_second: float, burst: int = 1, *, max_wait: float | None = None) -> Booking:
        self.calls += 1
        if self.hang:
            await asyncio.sleep(3600)
        if self.failure is not None:
            raise self.failure
        return Booking(booked=True, wait=0.5, at=123.0)

    async def reserve(
        self, key: str, rate_per_second: float, burst: int = 1, *, max_wait: float | None = None
    ) -> float:
        return (await self.book(key, rate_per_second, burst, max_wait=max_wait)).wait

    async def acquire(self, key: str, rate_per_second: float, burst: int = 1) -> None:
        await self.book(key, rate_per_second, burst)

    async def aclose(self) -> None:
        return None


async def test_fallback_paces_at_the_workers_share_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    shared = StandIn()
    limiter = ResilientLimiter(shared, worker_count=4, clock=clock, retry_interval=5.0)
    assert (await limiter.book("sender:1", 80)).at == 123.0
    assert not limiter.degraded
    shared.failure = ConnectionRefusedError(111, "refused")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        waits = [(await limiter.book("sender:1", 80)).wait for _ in range(5)]
        assert limiter.degraded
        assert waits == pytest.approx([0.0, 0.05, 0.10, 0.15, 0.20])  # 20/s: a quarter of 80
        assert shared.calls == 2  # the failing call; the rest went straight to local pacing
        clock.advance(5.0)
        await limiter.book("sender:1", 80)  # a retry that fails again: no new warning
        assert shared.calls == 3
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "1/4" in warnings[0].getMessage()
    assert "ConnectionRefusedError" in warnings[0].getMessage()


async def test_recovery_is_logged_once_and_shared_pacing_resumes(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    shared = StandIn()
    limiter = ResilientLimiter(shared, worker_count=2, clock=clock, retry_interval=5.0)
    shared.failure = OSError("network unreachable")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await limiter.book("k", 10)
        shared.failure = None
        clock.advance(4.9)
        assert (await limiter.book("k", 10)).at != 123.0  # not yet time to retry
        clock.advance(0.1)
        assert (await limiter.book("k", 10)).at == 123.0
        assert (await limiter.book("k", 10)).at == 123.0
    assert not limiter.degraded
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "unreachable" in messages[0]
    assert "reachable again" in messages[1]


async def test_a_hanging_redis_falls_back_after_the_call_timeout(caplog: pytest.LogCaptureFixture) -> None:
    shared = StandIn()
    shared.hang = True
    limiter = ResilientLimiter(shared, worker_count=1, clock=FakeClock(), call_timeout=0.05)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        booking = await limiter.book("k", 10)
    assert booking.booked
    assert limiter.degraded
    assert "TimeoutError" in caplog.records[0].getMessage()


async def test_worker_count_is_validated() -> None:
    with pytest.raises(ValueError, match="worker_count"):
        ResilientLimiter(StandIn(), worker_count=0)
