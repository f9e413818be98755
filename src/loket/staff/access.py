"""Who is acting, in which tenant, with which role: the principal every permission check reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.staff.errors import Forbidden, InvalidRequest
from loket.staff.permissions import ROLES, Role, check_permission_name
from loket.staff.tables import StaffMembership


@dataclass(frozen=True)
class Membership:
    tenant_id: str | None  # None: the platform scope
    role: Role


@dataclass(frozen=True)
class Principal:
    user_id: str
    session_id: str
    tenant_id: str | None  # the tenant this session is bound to; None: platform scope
    role: Role
    # set only by the route-matrix walker (dependency override), never from a real session
    probe: bool = False

    @property
    def permissions(self) -> frozenset[str]:
        return ROLES[self.role].permissions

    def can(self, permission: str) -> bool:
        return check_permission_name(permission) in self.permissions

    def demand(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(f"your role ({self.role.value}) does not have the permission {permission}")

    @property
    def is_platform_admin(self) -> bool:
        return self.role is Role.PLATFORM_ADMIN

    def tenant(self) -> str:
        """The tenant to act in; platform scope has none, so tenant actions ask to choose one first."""
        if self.tenant_id is None:
            raise InvalidRequest("this action works inside a tenant: switch to a tenant first")
        return self.tenant_id


def effective_role(memberships: Iterable[Membership], tenant_id: str | None) -> Role | None:
    """A tenant membership decides; platform administrators act in every tenant without one."""
    platform: Role | None = None
    for membership in memberships:
        if membership.tenant_id is None:
            platform = membership.role
        elif membership.tenant_id == tenant_id:
            return membership.role
    return platform


async def memberships_of(session: AsyncSession, user_id: str) -> list[Membership]:
    rows = await session.execute(
        select(StaffMembership.tenant_id, StaffMembership.role)
        .where(StaffMembership.user_id == user_id)
        .order_by(StaffMembership.tenant_id)
    )
    return [Membership(tenant_id, Role(role)) for tenant_id, role in rows]


def default_scope(memberships: list[Membership], wanted: str | None) -> str | None:
    """The tenant a new session is bound to: the one asked for if a member, else the first tenant."""
    if wanted is not None and any(m.tenant_id == wanted for m in memberships):
        return wanted
    tenants = sorted(m.tenant_id for m in memberships if m.tenant_id is not None)
    return tenants[0] if tenants else None
