"""The staff API router, and installing staff identity on an app."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, FastAPI

from loket.staff.service import StaffService
from loket.staff.web.deps import no_store
from loket.staff.web.headers import SecurityHeaders
from loket.staff.web.routes_admin import add_admin_routes
from loket.staff.web.routes_signin import add_signin_routes
from loket.web.scope_reset import ScopeReset

PREFIX = "/v1/staff"


def build_staff_router() -> APIRouter:
    """Every route under /v1/staff; the services come from `app.state.staff` (see install_staff)."""
    router = APIRouter(prefix=PREFIX, tags=["staff"], dependencies=[Depends(no_store)])
    add_signin_routes(router)
    add_admin_routes(router)
    return router


def install_staff(
    app: FastAPI, staff: StaffService, *, headers: bool = True, headers_exclude: Sequence[str] = ()
) -> None:
    """Make `staff` the identity service of `app`, mount the staff API, and add the security headers."""
    app.state.staff = staff
    app.include_router(build_staff_router())
    app.add_middleware(ScopeReset)  # a request's tenant scope ends with it (loket.db.scope)
    if headers:
        app.add_middleware(SecurityHeaders, exclude=headers_exclude)
