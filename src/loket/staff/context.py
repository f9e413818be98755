"""What every staff service shares: storage, time, policy, keys, hashing, and the audit port."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from loket.clock import Clock
from loket.db.engine import Database
from loket.db.scope import SystemReason
from loket.staff.audit import AuditEvent, AuditSink, Detail
from loket.staff.passwords import Passwords
from loket.staff.policy import StaffKeys, StaffPolicy
from loket.staff.throttle import IpLimiter, LoginThrottle


@dataclass(frozen=True)
class StaffContext:
    db: Database
    clock: Clock
    policy: StaffPolicy
    keys: StaffKeys
    passwords: Passwords
    audit: AuditSink
    limiter: IpLimiter
    throttle: LoginThrottle

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Staff identity spans tenants (a user's memberships, sessions before a tenant is chosen):
        it works in the listed system scope and checks the principal's tenant in code."""
        async with self.db.system_session(SystemReason.STAFF_AUTH) as session:
            yield session

    async def record(
        self,
        action: str,
        *,
        actor_id: str | None,
        tenant_id: str | None,
        target_type: str | None = None,
        target_id: str | None = None,
        outcome: str = "ok",
        session: AsyncSession | None = None,
        **details: Detail,
    ) -> None:
        """Record in the caller's transaction (`session`), so the action and its record commit together."""
        await self.audit.record(
            AuditEvent(
                action=action,
                at=self.clock.now(),
                actor_id=actor_id,
                tenant_id=tenant_id,
                target_type=target_type,
                target_id=target_id,
                outcome=outcome,
                details=details,
            ),
            session=session,
        )


def new_id() -> str:
    return uuid.uuid4().hex
