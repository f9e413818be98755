"""Server-side staff sessions: a random 256-bit token in the cookie, only its SHA-256 in the database.

The token changes whenever the session gains privileges (TOTP passed, password changed, tenant
switched), so a token seen before sign-in completed is worth nothing after it.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.clock import Clock
from loket.staff.context import new_id
from loket.staff.errors import SessionInvalid
from loket.staff.policy import StaffPolicy
from loket.staff.tables import StaffSession

# Writing last_seen_at on every request would make each page view a write; a minute is precise enough.
TOUCH_EVERY = timedelta(seconds=60)


class SessionState(enum.StrEnum):
    ENROL = "enrol"  # password accepted, TOTP not set up yet
    TOTP = "totp"  # password accepted, TOTP code expected
    # both factors passed, a temporary password must be replaced
    PASSWORD_CHANGE = "password_change"  # noqa: S105  (a state name, not a password)
    ACTIVE = "active"


@dataclass(frozen=True)
class SessionView:
    id: str
    user_id: str
    tenant_id: str | None
    state: SessionState
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    totp_failures: int


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _view(row: StaffSession) -> SessionView:
    return SessionView(
        id=row.id,
        user_id=row.user_id,
        tenant_id=row.tenant_id,
        state=SessionState(row.state),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        totp_failures=row.totp_failures,
    )


class Sessions:
    def __init__(self, clock: Clock, policy: StaffPolicy) -> None:
        self._clock = clock
        self._policy = policy

    async def create(
        self, session: AsyncSession, *, user_id: str, tenant_id: str | None, state: SessionState
    ) -> tuple[str, SessionView]:
        now = self._clock.now()
        token = new_token()
        lifetime = self._policy.absolute_timeout if state is SessionState.ACTIVE else self._policy.sign_in_timeout
        row = StaffSession(
            id=new_id(),
            token_sha256=token_digest(token),
            user_id=user_id,
            tenant_id=tenant_id,
            state=state.value,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            revoked_at=None,
            revoked_reason=None,
            totp_failures=0,
        )
        session.add(row)
        await session.flush()
        return token, _view(row)

    async def resolve(self, session: AsyncSession, token: str | None) -> SessionView:
        """The live session behind `token`; SessionInvalid for unknown, revoked or expired ones."""
        if not token or len(token) > 128:
            raise SessionInvalid()
        row = await session.scalar(select(StaffSession).where(StaffSession.token_sha256 == token_digest(token)))
        if row is None or row.revoked_at is not None:
            raise SessionInvalid()
        now = self._clock.now()
        if now >= row.expires_at:
            raise SessionInvalid()
        if row.state == SessionState.ACTIVE and now - row.last_seen_at >= self._policy.idle_timeout:
            raise SessionInvalid()
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
        return _view(row)

    async def advance(
        self,
        session: AsyncSession,
        session_id: str,
        state: SessionState,
        *,
        tenant_id: str | None = None,
        keep_tenant: bool = True,
    ) -> tuple[str, SessionView]:
        """Move to `state` (and maybe another tenant) under a fresh token; the old token stops working."""
        row = await session.get(StaffSession, session_id)
        if row is None or row.revoked_at is not None:
            raise SessionInvalid()
        now = self._clock.now()
        token = new_token()
        row.token_sha256 = token_digest(token)
        if state is SessionState.ACTIVE and row.state != SessionState.ACTIVE:
            row.expires_at = row.created_at + self._policy.absolute_timeout
        row.state = state.value
        row.last_seen_at = now
        if not keep_tenant:
            row.tenant_id = tenant_id
        await session.flush()
        return token, _view(row)

    async def count_totp_failure(self, session: AsyncSession, session_id: str) -> int:
        row = await session.get(StaffSession, session_id)
        if row is None:
            return 0
        row.totp_failures += 1
        if row.totp_failures >= self._policy.totp_failures_per_session:
            await self._end(session, session_id, "totp_failures")
        return row.totp_failures

    async def revoke(self, session: AsyncSession, session_id: str, reason: str) -> None:
        await self._end(session, session_id, reason)

    async def revoke_all(self, session: AsyncSession, user_id: str, reason: str, *, keep: str | None = None) -> int:
        """End every live session of the user, except `keep` (the one that asked, when it stays)."""
        result = await session.execute(
            update(StaffSession)
            .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None), StaffSession.id != (keep or ""))
            .values(revoked_at=self._clock.now(), revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _end(self, session: AsyncSession, session_id: str, reason: str) -> None:
        await session.execute(
            update(StaffSession)
            .where(StaffSession.id == session_id, StaffSession.revoked_at.is_(None))
            .values(revoked_at=self._clock.now(), revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )
