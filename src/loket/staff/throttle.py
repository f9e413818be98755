"""Slowing guessers down: per login name (in the database) and per client address (in memory).

The per-name record exists for names with no account too, so lockout answers the same whether or not
an account exists. The per-address limiter is per process: behind several workers the effective
limit is multiplied by their number, which the per-name lockout (shared) bounds anyway.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.clock import Clock
from loket.db.upsert import insert_ignore
from loket.staff.errors import Throttled
from loket.staff.policy import StaffPolicy
from loket.staff.tables import StaffLoginThrottle


class IpLimiter:
    """At most `limit` failed attempts per client address per fixed window, per endpoint family.

    Only failures count: a branch office signing in fifty people behind one NAT address at the start
    of a shift is not an attack; fifty wrong passwords from it are. IPv6 addresses count per /64,
    the block one subscriber usually holds."""

    def __init__(self, clock: Clock, *, limit: int, window_seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window_seconds
        self._max_keys = max_keys
        self._counts: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()

    def check(self, family: str, address: str) -> None:
        """Raise Throttled while the address is over its limit in the current window."""
        now = self._clock.monotonic()
        window, count = self._counts.get((family, _block(address)), (-1, 0))
        if window == int(now // self._window) and count >= self._limit:
            raise Throttled(math.ceil((window + 1) * self._window - now))

    def failed(self, family: str, address: str) -> None:
        window = int(self._clock.monotonic() // self._window)
        key = (family, _block(address))
        current_window, count = self._counts.pop(key, (window, 0))
        self._counts[key] = (window, count + 1 if current_window == window else 1)
        while len(self._counts) > self._max_keys:
            self._counts.popitem(last=False)


def _block(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class LoginThrottle:
    def __init__(self, clock: Clock, policy: StaffPolicy, dialect: str) -> None:
        self._clock = clock
        self._policy = policy
        self._dialect = dialect

    async def check(self, session: AsyncSession, login_key: str) -> None:
        """Refuse an attempt while the name is locked or inside its back-off delay."""
        row = await session.get(StaffLoginThrottle, login_key)
        if row is None:
            return
        now = self._clock.now()
        if row.locked_until is not None and now < row.locked_until:
            raise Throttled(_seconds(row.locked_until - now))
        if row.locked_until is not None:
            await session.execute(delete(StaffLoginThrottle).where(StaffLoginThrottle.login_key == login_key))
            return
        if row.last_failure_at is not None:
            allowed_at = row.last_failure_at + self._policy.delay_after(row.failures)
            if now < allowed_at:
                raise Throttled(_seconds(allowed_at - now))

    async def failed(self, session: AsyncSession, login_key: str) -> None:
        now = self._clock.now()
        await session.execute(
            insert_ignore(self._dialect, StaffLoginThrottle, "login_key").values(
                login_key=login_key, failures=0, last_failure_at=None, locked_until=None
            )
        )
        await session.execute(
            update(StaffLoginThrottle)
            .where(StaffLoginThrottle.login_key == login_key)
            .values(failures=StaffLoginThrottle.failures + 1, last_failure_at=now)
        )
        failures = await session.scalar(
            select(StaffLoginThrottle.failures).where(StaffLoginThrottle.login_key == login_key)
        )
        if failures is not None and failures >= self._policy.lock_after:
            await session.execute(
                update(StaffLoginThrottle)
                .where(StaffLoginThrottle.login_key == login_key)
                .values(locked_until=now + self._policy.lock_for)
            )

    async def succeeded(self, session: AsyncSession, login_key: str) -> None:
        await session.execute(delete(StaffLoginThrottle).where(StaffLoginThrottle.login_key == login_key))


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))
