"""Who is using the console: the signed-in staff member of a page, with what the layout needs.

`page_user(permission)` is the dependency of every console page: it reuses the staff permission
machinery (`loket.staff.web.deps.require`, so the route matrix sees the permission), and a page asked
for without a session redirects to /console/login (see `install_console`'s exception handler).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache

from fastapi import Depends, Request
from sqlalchemy import select

from loket.clock import Clock
from loket.db.engine import Database
from loket.db.models import Tenant
from loket.db.scope import SystemReason, system_scope
from loket.i18n.catalog import normalise_language
from loket.staff.access import Principal, memberships_of
from loket.staff.service import StaffService
from loket.staff.tables import StaffUser
from loket.staff.web.deps import require, session_token, staff_of

LANGUAGE_COOKIE = "loket_console_lang"


@dataclass(frozen=True)
class TenantChoice:
    tenant_id: str
    name: str
    role: str


@dataclass(frozen=True)
class ConsoleUser:
    principal: Principal
    email: str
    display_name: str
    tenants: tuple[TenantChoice, ...]  # every tenant the person may switch to
    csrf_token: str
    language: str

    @property
    def user_id(self) -> str:
        return self.principal.user_id

    @property
    def tenant_id(self) -> str | None:
        return self.principal.tenant_id

    @property
    def tenant_name(self) -> str:
        return next((t.name for t in self.tenants if t.tenant_id == self.tenant_id), self.tenant_id or "—")

    def can(self, permission: str) -> bool:
        return self.principal.can(permission)


def language_of(request: Request) -> str:
    return normalise_language(request.cookies.get(LANGUAGE_COOKIE))


def console_db(request: Request) -> Database:
    return staff_of(request).ctx.db


def console_clock(request: Request) -> Clock:
    return staff_of(request).ctx.clock


@dataclass(frozen=True)
class _Profile:
    email: str
    display_name: str
    tenants: tuple[TenantChoice, ...]
    loaded_at: float


PROFILE_TTL_SECONDS = 15.0
PROFILE_CACHE_SIZE = 2000
_profiles: dict[tuple[str, str], _Profile] = {}


async def _profile(staff: StaffService, principal: Principal) -> _Profile:
    """Name and memberships for the layout, cached briefly per session (the permission check is not)."""
    key = (principal.session_id, principal.user_id)
    cached = _profiles.get(key)
    if cached is not None and time.monotonic() - cached.loaded_at < PROFILE_TTL_SECONDS:
        return cached
    # the tenant switcher lists every membership of the person: sign-in's cross-tenant reason
    with system_scope(SystemReason.STAFF_AUTH):
        async with staff.ctx.db.sessions() as session:
            user = await session.get(StaffUser, principal.user_id)
            memberships = await memberships_of(session, principal.user_id)
            ids = [m.tenant_id for m in memberships if m.tenant_id is not None]
            query = select(Tenant.id, Tenant.display_name).where(Tenant.id.in_(ids))
            names = dict((await session.execute(query)).all())
    tenants = tuple(
        TenantChoice(m.tenant_id, str(names.get(m.tenant_id, m.tenant_id)), m.role.value)
        for m in memberships
        if m.tenant_id is not None
    )
    found = _Profile(user.email if user else "", user.display_name if user else "", tenants, time.monotonic())
    if len(_profiles) >= PROFILE_CACHE_SIZE:
        _profiles.clear()
    _profiles[key] = found
    return found


def forget_profile(session_id: str) -> None:
    for key in [key for key in _profiles if key[0] == session_id]:
        _profiles.pop(key, None)


async def load_user(request: Request, staff: StaffService, principal: Principal) -> ConsoleUser:
    profile = await _profile(staff, principal)
    return ConsoleUser(
        principal=principal,
        email=profile.email,
        display_name=profile.display_name,
        tenants=profile.tenants,
        csrf_token=staff.ctx.keys.csrf_token(session_token(request) or ""),
        language=language_of(request),
    )


@cache
def page_user(permission: str) -> Callable[..., Awaitable[ConsoleUser]]:
    """Dependency: the signed-in staff member holding `permission`, with the layout's facts."""
    needed = require(permission)

    # a default, not Annotated: the annotation is a string (PEP 563) and `needed` is local to this call
    async def dependency(request: Request, principal: Principal = Depends(needed)) -> ConsoleUser:  # noqa: B008
        user = await load_user(request, staff_of(request), principal)
        request.state.console_user = user
        return user

    dependency.__name__ = f"console_{permission.replace('.', '_')}"
    return dependency


def tenant_of(user: ConsoleUser) -> str:
    """The tenant the page acts in (raises the staff InvalidRequest in platform scope)."""
    return user.principal.tenant()
