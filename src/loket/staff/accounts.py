"""Staff accounts and roles, managed by administrators only.

A tenant administrator sees and acts on the members of their own tenant; anyone else's account
answers "not found", exactly as a missing one does. Platform administrators act everywhere.
`actor=None` is the command line on the server, trusted like a platform administrator.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loket.db.models import Tenant
from loket.staff.access import Membership, Principal, memberships_of
from loket.staff.context import StaffContext, new_id
from loket.staff.errors import Conflict, Forbidden, InvalidRequest, NotFound
from loket.staff.passwords import check_strength
from loket.staff.permissions import TENANT_ROLES, Role
from loket.staff.sessions import Sessions
from loket.staff.tables import StaffBackupCode, StaffMembership, StaffUser

_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class UserView:
    id: str
    email: str
    display_name: str
    status: str
    must_change_password: bool
    totp_enrolled: bool
    memberships: list[Membership]
    created_at: datetime


@dataclass(frozen=True)
class IssuedPassword:
    """A temporary password, shown once to the administrator; the user must replace it at sign-in."""

    user: UserView
    temporary_password: str


def temporary_password() -> str:
    groups = ["".join(secrets.choice(_TEMP_ALPHABET) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)


def normalise_email(email: str) -> str:
    value = email.strip().casefold()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or len(value) > 254:
        raise InvalidRequest("the email address is not valid")
    return value


async def personal_words(session: AsyncSession, user: StaffUser, tenant_ids: list[str | None]) -> list[str]:
    """What a password must not contain: the person's email and name, and their institutions' names."""
    words = [user.email, user.display_name]
    ids = [tenant_id for tenant_id in tenant_ids if tenant_id is not None]
    if ids:
        rows = await session.execute(
            select(Tenant.id, Tenant.display_name, Tenant.legal_name).where(Tenant.id.in_(ids))
        )
        for row in rows:
            words.extend(row)
    return words


async def user_view(session: AsyncSession, user: StaffUser) -> UserView:
    return UserView(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        status=user.status,
        must_change_password=user.must_change_password,
        totp_enrolled=user.totp_confirmed_at is not None,
        memberships=await memberships_of(session, user.id),
        created_at=user.created_at,
    )


class Accounts:
    def __init__(self, ctx: StaffContext, sessions: Sessions) -> None:
        self._ctx = ctx
        self._sessions = sessions

    async def create_user(
        self,
        actor: Principal | None,
        *,
        email: str,
        display_name: str,
        role: Role,
        tenant_id: str | None = None,
        password: str | None = None,
    ) -> IssuedPassword:
        """A new account with one membership; its password is temporary whoever chose it."""
        scope = self._scope_for_grant(actor, role, tenant_id)
        email = normalise_email(email)
        display_name = display_name.strip()
        if not display_name or len(display_name) > 100:
            raise InvalidRequest("the display name must be 1 to 100 characters")
        chosen = password or temporary_password()
        now = self._ctx.clock.now()
        user = StaffUser(
            id=new_id(),
            email=email,
            display_name=display_name,
            password_hash="",
            must_change_password=True,
            password_changed_at=now,
            status="active",
            created_at=now,
            updated_at=now,
        )
        async with self._ctx.transaction() as session:
            if scope is not None and await session.get(Tenant, scope) is None:
                raise NotFound(f"no tenant {scope!r}")
            check_strength(chosen, personal=await personal_words(session, user, [scope]))
        user.password_hash = await asyncio.to_thread(self._ctx.passwords.hash, chosen)
        try:
            async with self._ctx.transaction() as session:
                session.add(user)
                await session.flush()
                session.add(self._membership(user.id, scope, role, actor))
                await session.flush()
                view = await user_view(session, user)
                await self._ctx.record(
                    "staff.user.created",
                    actor_id=_actor_id(actor),
                    tenant_id=scope,
                    target_type="staff_user",
                    target_id=view.id,
                    session=session,
                    role=role.value,
                )
        except IntegrityError:
            raise Conflict("an account with this email address already exists") from None
        return IssuedPassword(view, chosen)

    async def reset_password(
        self, actor: Principal | None, user_id: str, *, password: str | None = None, reset_totp: bool = False
    ) -> IssuedPassword:
        """Set a temporary password, end every session, lift a lockout; optionally force TOTP re-enrolment."""
        if actor is not None and actor.user_id == user_id:
            raise Forbidden("change your own password with the password change, not an administrator reset")
        chosen = password or temporary_password()
        async with self._ctx.transaction() as session:
            user = await self._visible(session, actor, user_id)
            memberships = await memberships_of(session, user.id)
            if actor is not None and not actor.is_platform_admin:
                beyond = [m for m in memberships if m.tenant_id != actor.tenant_id]
                if beyond:
                    raise Forbidden("this account has access beyond your tenant: a platform administrator resets it")
            check_strength(chosen, personal=await personal_words(session, user, [m.tenant_id for m in memberships]))
        hashed = await asyncio.to_thread(self._ctx.passwords.hash, chosen)
        async with self._ctx.transaction() as session:
            user = await self._visible(session, actor, user_id)
            user.password_hash = hashed
            user.must_change_password = True
            user.password_changed_at = user.updated_at = self._ctx.clock.now()
            if reset_totp:
                user.totp_secret_enc = None
                user.totp_confirmed_at = None
                await session.execute(delete(StaffBackupCode).where(StaffBackupCode.user_id == user.id))
            await self._sessions.revoke_all(session, user.id, "password_reset")
            await self._ctx.throttle.succeeded(session, self._ctx.keys.login_key(user.email))
            view = await user_view(session, user)
            await self._ctx.record(
                "staff.password.reset",
                actor_id=_actor_id(actor),
                tenant_id=actor.tenant_id if actor else _home(view),
                target_type="staff_user",
                target_id=user_id,
                session=session,
                totp_reset=reset_totp,
            )
        return IssuedPassword(view, chosen)

    async def set_role(
        self,
        actor: Principal | None,
        user_id: str,
        role: Role | None,
        *,
        tenant_id: str | None = None,
        platform: bool = False,
    ) -> UserView:
        """Grant, change or (role=None) remove a role: in a tenant (by default the actor's), or the platform role."""
        if actor is not None and actor.user_id == user_id:
            raise Forbidden("you cannot change your own role")
        scope = self._scope_for_grant(actor, role, tenant_id, platform=platform)
        async with self._ctx.transaction() as session:
            user = await self._visible(session, actor, user_id)
            if scope is not None and await session.get(Tenant, scope) is None:
                raise NotFound(f"no tenant {scope!r}")
            match = StaffMembership.tenant_id.is_(None) if scope is None else StaffMembership.tenant_id == scope
            existing = await session.scalar(select(StaffMembership).where(StaffMembership.user_id == user.id, match))
            before = existing.role if existing else None
            if role is None:
                if existing is not None:
                    await session.delete(existing)
            elif existing is None:
                session.add(self._membership(user.id, scope, role, actor))
            else:
                existing.role = role.value
            await session.flush()
            view = await user_view(session, user)
            if not view.memberships:
                await self._sessions.revoke_all(session, user.id, "no_role_left")
            await self._ctx.record(
                "staff.role.changed",
                actor_id=_actor_id(actor),
                tenant_id=scope,
                target_type="staff_user",
                target_id=user_id,
                session=session,
                before=before,
                after=role.value if role else None,
            )
        return view

    async def list_users(self, actor: Principal | None, *, tenant_id: str | None = None) -> list[UserView]:
        """Members of the actor's tenant (platform scope: the platform administrators)."""
        scope = actor.tenant_id if actor is not None else tenant_id
        match = StaffMembership.tenant_id.is_(None) if scope is None else StaffMembership.tenant_id == scope
        async with self._ctx.transaction() as session:
            users = await session.scalars(
                select(StaffUser)
                .join(StaffMembership, StaffMembership.user_id == StaffUser.id)
                .where(match)
                .order_by(StaffUser.email)
            )
            return [await user_view(session, user) for user in users]

    async def profile(self, user_id: str) -> UserView:
        """One's own account (no permission involved: the caller is that user)."""
        async with self._ctx.transaction() as session:
            user = await session.get(StaffUser, user_id)
            if user is None:
                raise NotFound("no such staff account")
            return await user_view(session, user)

    async def find_by_email(self, email: str) -> UserView | None:
        async with self._ctx.transaction() as session:
            user = await session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))
            return await user_view(session, user) if user else None

    def _scope_for_grant(
        self, actor: Principal | None, role: Role | None, tenant_id: str | None, *, platform: bool = False
    ) -> str | None:
        """The membership scope a grant lands in: the platform (None), or a tenant the actor may manage."""
        if platform or role is Role.PLATFORM_ADMIN:
            if role is not None and role is not Role.PLATFORM_ADMIN:
                raise InvalidRequest("the platform scope has one role: platform_admin")
            if actor is not None and not actor.is_platform_admin:
                raise Forbidden("only a platform administrator manages platform administrators")
            return None
        if role is not None and role not in TENANT_ROLES:
            raise InvalidRequest(f"{role.value} is not a tenant role")
        if actor is None:
            if tenant_id is None:
                raise InvalidRequest("a tenant role needs a tenant")
            return tenant_id
        if tenant_id is not None and tenant_id != actor.tenant_id and not actor.is_platform_admin:
            raise NotFound(f"no tenant {tenant_id!r}")
        return tenant_id if tenant_id is not None else actor.tenant()

    async def _visible(self, session: AsyncSession, actor: Principal | None, user_id: str) -> StaffUser:
        user = await session.get(StaffUser, user_id)
        if user is None:
            raise NotFound("no such staff account")
        if actor is None or actor.is_platform_admin:
            return user
        member = await session.scalar(
            select(StaffMembership.id).where(
                StaffMembership.user_id == user_id, StaffMembership.tenant_id == actor.tenant()
            )
        )
        if member is None:
            raise NotFound("no such staff account")
        return user

    def _membership(self, user_id: str, scope: str | None, role: Role, actor: Principal | None) -> StaffMembership:
        return StaffMembership(
            user_id=user_id,
            tenant_id=scope,
            role=role.value,
            created_at=self._ctx.clock.now(),
            created_by=_actor_id(actor),
        )


def _actor_id(actor: Principal | None) -> str | None:
    return actor.user_id if actor else None


def _home(view: UserView) -> str | None:
    """The tenant whose audit trail an event about this account belongs to (None: the platform)."""
    tenants = sorted(m.tenant_id for m in view.memberships if m.tenant_id is not None)
    return tenants[0] if tenants else None
