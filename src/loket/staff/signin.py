"""Signing in: password, then TOTP (enrolled at the first sign-in), then a forced password change if
an administrator set the password. Every failure counts against the login name's throttle.

Transactions stay short and argon2 runs in a worker thread: a slow hash must not hold the database
connection (SQLite has one) or the event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.db.models import Tenant
from loket.staff import totp
from loket.staff.access import Principal, default_scope, effective_role, memberships_of
from loket.staff.accounts import personal_words
from loket.staff.context import StaffContext
from loket.staff.errors import (
    Forbidden,
    InvalidCode,
    InvalidCredentials,
    InvalidRequest,
    NotFound,
    SessionInvalid,
    WrongStep,
)
from loket.staff.passwords import check_strength
from loket.staff.sessions import Sessions, SessionState, SessionView
from loket.staff.tables import StaffBackupCode, StaffUser

TOTP_COLUMN = {"table": "staff_users", "column": "totp_secret_enc"}


@dataclass(frozen=True)
class Step:
    """Where signing in stands, under a fresh session token (set it as the cookie)."""

    token: str
    csrf_token: str
    state: SessionState
    backup_codes: tuple[str, ...] = ()


class SignIn:
    def __init__(self, ctx: StaffContext, sessions: Sessions) -> None:
        self._ctx = ctx
        self._sessions = sessions

    async def password(self, email: str, password: str, *, address: str, tenant_id: str | None = None) -> Step:
        self._ctx.limiter.check("login", address)
        key = self._ctx.keys.login_key(email)
        async with self._ctx.transaction() as session:
            await self._ctx.throttle.check(session, key)
            user = await session.scalar(select(StaffUser).where(StaffUser.email == email.strip().casefold()))
            stored = user.password_hash if user is not None and user.status == "active" else None
        if stored is None:
            await asyncio.to_thread(self._ctx.passwords.burn, password)
            ok = False
        else:
            ok = await asyncio.to_thread(self._ctx.passwords.verify, stored, password)
        rehash = ok and stored is not None and self._ctx.passwords.needs_rehash(stored)
        new_hash = await asyncio.to_thread(self._ctx.passwords.hash, password) if rehash else None
        async with self._ctx.transaction() as session:
            memberships = await memberships_of(session, user.id) if user is not None else []
            if not ok or not memberships or user is None:
                await self._ctx.throttle.failed(session, key)
                await self._ctx.record(
                    "staff.login",
                    actor_id=None,
                    tenant_id=default_scope(memberships, None),
                    target_type="staff_user",
                    target_id=user.id if user else None,
                    outcome="failed",
                    session=session,
                    step="password",
                )
                step = None
            else:
                if new_hash is not None:
                    await session.execute(
                        update(StaffUser).where(StaffUser.id == user.id).values(password_hash=new_hash)
                    )
                state = SessionState.TOTP if user.totp_confirmed_at is not None else SessionState.ENROL
                token, view = await self._sessions.create(
                    session, user_id=user.id, tenant_id=default_scope(memberships, tenant_id), state=state
                )
                step = Step(token, self._ctx.keys.csrf_token(token), state)
                await self._ctx.record(
                    "staff.login.password",
                    actor_id=user.id,
                    tenant_id=view.tenant_id,
                    target_type="staff_session",
                    target_id=view.id,
                    session=session,
                    rehashed=new_hash is not None,
                )
        if step is None:
            self._ctx.limiter.failed("login", address)
            raise InvalidCredentials()
        return step

    async def enrol(self, token: str | None) -> totp.Enrolment:
        """A new TOTP secret for a session at the enrolment step; calling again replaces it."""
        async with self._ctx.transaction() as session:
            view = await self._at(session, token, SessionState.ENROL)
            user = await self._user(session, view)
            secret = totp.new_secret()
            user.totp_secret_enc = self._ctx.keys.box.seal(secret, row=user.id, **TOTP_COLUMN)
            user.totp_last_step = None
            email = user.email
        return totp.enrolment(secret, account=email)

    async def verify(self, token: str | None, code: str, *, address: str) -> Step:
        """Check a TOTP code (or, after enrolment, a backup code) and move the session on."""
        self._ctx.limiter.check("totp", address)
        now = self._ctx.clock.now()
        async with self._ctx.transaction() as session:
            view = await self._at(session, token, SessionState.ENROL, SessionState.TOTP)
            user = await self._user(session, view)
            key = self._ctx.keys.login_key(user.email)
            await self._ctx.throttle.check(session, key)
            if user.totp_secret_enc is None:
                raise WrongStep("start the TOTP enrolment first")
            secret = self._ctx.keys.box.open(user.totp_secret_enc, row=user.id, **TOTP_COLUMN)
            method = await self._consume_code(session, user, secret, code, enrolling=view.state is SessionState.ENROL)
            if method is None:
                await self._sessions.count_totp_failure(session, view.id)
                await self._ctx.throttle.failed(session, key)
                await self._ctx.record(
                    "staff.login",
                    actor_id=view.user_id,
                    tenant_id=view.tenant_id,
                    target_type="staff_user",
                    target_id=view.user_id,
                    outcome="failed",
                    session=session,
                    step="totp",
                )
                step = None
            else:
                codes: tuple[str, ...] = ()
                if view.state is SessionState.ENROL:
                    user.totp_confirmed_at = now
                    codes = tuple(await self._new_backup_codes(session, user.id))
                    await self._ctx.record(
                        "staff.totp.enrolled",
                        actor_id=view.user_id,
                        tenant_id=view.tenant_id,
                        target_type="staff_user",
                        target_id=view.user_id,
                        session=session,
                    )
                await self._ctx.throttle.succeeded(session, key)
                state = SessionState.PASSWORD_CHANGE if user.must_change_password else SessionState.ACTIVE
                new_token, _ = await self._sessions.advance(session, view.id, state)
                step = Step(new_token, self._ctx.keys.csrf_token(new_token), state, codes)
                await self._ctx.record(
                    "staff.login",
                    actor_id=view.user_id,
                    tenant_id=view.tenant_id,
                    target_type="staff_session",
                    target_id=view.id,
                    session=session,
                    method=method,
                )
        if step is None:
            self._ctx.limiter.failed("totp", address)
            raise InvalidCode()
        return step

    async def change_password(self, token: str | None, current: str, new: str) -> Step:
        """Replace one's own password; every other session of the account ends."""
        async with self._ctx.transaction() as session:
            view = await self._at(session, token, SessionState.PASSWORD_CHANGE, SessionState.ACTIVE)
            user = await self._user(session, view)
            stored = user.password_hash
            memberships = await memberships_of(session, user.id)
            personal = await personal_words(session, user, [m.tenant_id for m in memberships])
        if not await asyncio.to_thread(self._ctx.passwords.verify, stored, current):
            async with self._ctx.transaction() as session:
                await self._ctx.throttle.failed(session, self._ctx.keys.login_key(user.email))
                await self._ctx.record(
                    "staff.login",
                    actor_id=view.user_id,
                    tenant_id=view.tenant_id,
                    target_id=view.user_id,
                    outcome="failed",
                    session=session,
                    step="password_change",
                )
            raise Forbidden("the current password is not correct")
        if new == current:
            raise InvalidRequest("the new password must differ from the current one")
        check_strength(new, personal=personal)
        hashed = await asyncio.to_thread(self._ctx.passwords.hash, new)
        async with self._ctx.transaction() as session:
            now = self._ctx.clock.now()
            await session.execute(
                update(StaffUser)
                .where(StaffUser.id == view.user_id)
                .values(password_hash=hashed, must_change_password=False, password_changed_at=now, updated_at=now)
            )
            await self._sessions.revoke_all(session, view.user_id, "password_changed", keep=view.id)
            new_token, _ = await self._sessions.advance(session, view.id, SessionState.ACTIVE)
            await self._ctx.record(
                "staff.password.changed",
                actor_id=view.user_id,
                tenant_id=view.tenant_id,
                target_type="staff_user",
                target_id=view.user_id,
                session=session,
            )
        return Step(new_token, self._ctx.keys.csrf_token(new_token), SessionState.ACTIVE)

    async def principal(self, token: str | None) -> Principal:
        """The active principal behind a session token; raises for any session not fully signed in."""
        async with self._ctx.transaction() as session:
            view = await self._sessions.resolve(session, token)
            if view.state is not SessionState.ACTIVE:
                raise SessionInvalid("signing in is not complete: finish the TOTP step first")
            user = await session.get(StaffUser, view.user_id)
            if user is None or user.status != "active":
                raise SessionInvalid()
            role = effective_role(await memberships_of(session, user.id), view.tenant_id)
        if role is None:
            raise Forbidden("you no longer have a role in this tenant: switch tenant or sign in again")
        return Principal(user_id=view.user_id, session_id=view.id, tenant_id=view.tenant_id, role=role)

    async def session_of(self, token: str | None) -> SessionView:
        async with self._ctx.transaction() as session:
            return await self._sessions.resolve(session, token)

    async def switch_tenant(self, principal: Principal, tenant_id: str | None) -> Step:
        """Bind the session to another tenant (None: the platform scope), under a fresh token."""
        async with self._ctx.transaction() as session:
            memberships = await memberships_of(session, principal.user_id)
            member = any(m.tenant_id == tenant_id for m in memberships)
            role = effective_role(memberships, tenant_id)
            if role is None or (tenant_id is None and not member):
                raise Forbidden("you have no role there")
            if tenant_id is not None and not member and await session.get(Tenant, tenant_id) is None:
                raise NotFound(f"no tenant {tenant_id!r}")
            token, _ = await self._sessions.advance(
                session, principal.session_id, SessionState.ACTIVE, tenant_id=tenant_id, keep_tenant=False
            )
            await self._ctx.record(
                "staff.tenant.switched",
                actor_id=principal.user_id,
                tenant_id=tenant_id,
                target_type="staff_session",
                target_id=principal.session_id,
                session=session,
                previous=principal.tenant_id,
            )
        return Step(token, self._ctx.keys.csrf_token(token), SessionState.ACTIVE)

    async def logout(self, token: str | None) -> None:
        async with self._ctx.transaction() as session:
            view = await self._sessions.resolve(session, token)
            await self._sessions.revoke(session, view.id, "logout")
            await self._ctx.record(
                "staff.logout",
                actor_id=view.user_id,
                tenant_id=view.tenant_id,
                target_type="staff_session",
                target_id=view.id,
                session=session,
            )

    async def revoke_all(self, principal: Principal) -> int:
        async with self._ctx.transaction() as session:
            count = await self._sessions.revoke_all(session, principal.user_id, "revoked_by_user")
            await self._ctx.record(
                "staff.sessions.revoked",
                actor_id=principal.user_id,
                tenant_id=principal.tenant_id,
                target_type="staff_user",
                target_id=principal.user_id,
                session=session,
                count=count,
            )
        return count

    async def _at(self, session: AsyncSession, token: str | None, *states: SessionState) -> SessionView:
        view = await self._sessions.resolve(session, token)
        if view.state not in states:
            raise WrongStep(f"this session is at the {view.state.value} step")
        return view

    async def _user(self, session: AsyncSession, view: SessionView) -> StaffUser:
        user = await session.get(StaffUser, view.user_id)
        if user is None or user.status != "active":
            raise SessionInvalid()
        return user

    async def _consume_code(
        self, session: AsyncSession, user: StaffUser, secret: str, code: str, *, enrolling: bool
    ) -> str | None:
        """'totp' or 'backup_code' when the code is good and now spent; None otherwise.

        The conditional UPDATEs make two concurrent uses of one code succeed at most once."""
        step = totp.matching_step(secret, code, now=self._ctx.clock.now(), last_used_step=user.totp_last_step)
        if step is not None:
            result = await session.execute(
                update(StaffUser)
                .where(
                    StaffUser.id == user.id,
                    or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step),
                )
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) == 1:
                user.totp_last_step = step
                return "totp"
            return None
        if enrolling or not totp.looks_like_backup_code(code):
            return None
        result = await session.execute(
            update(StaffBackupCode)
            .where(
                StaffBackupCode.user_id == user.id,
                StaffBackupCode.code_hmac == totp.backup_code_hash(self._ctx.keys.pepper, user.id, code),
                StaffBackupCode.used_at.is_(None),
            )
            .values(used_at=self._ctx.clock.now())
        )
        return "backup_code" if getattr(result, "rowcount", 0) == 1 else None

    async def _new_backup_codes(self, session: AsyncSession, user_id: str) -> list[str]:
        await session.execute(delete(StaffBackupCode).where(StaffBackupCode.user_id == user_id))
        codes = totp.new_backup_codes()
        now = self._ctx.clock.now()
        for code in codes:
            digest = totp.backup_code_hash(self._ctx.keys.pepper, user_id, code)
            session.add(StaffBackupCode(user_id=user_id, code_hmac=digest, created_at=now, used_at=None))
        await session.flush()
        return codes
