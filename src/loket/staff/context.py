"""What every staff service shares: storage, time, policy, keys, hashing, and the audit port."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from loket.clock import Clock
from loket.db.engine import Database
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
