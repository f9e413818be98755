"""The HTTP side of staff identity (FastAPI): dependencies, routes, security headers, route checks."""

from __future__ import annotations

from loket.staff.web.deps import (
    COOKIE_NAME,
    CSRF_FIELD,
    CSRF_HEADER,
    current_principal,
    public,
    require,
    require_api_key,
    signing_in,
)
from loket.staff.web.headers import SecurityHeaders
from loket.staff.web.routecheck import assert_routes_follow_matrix
from loket.staff.web.router import build_staff_router, install_staff

__all__ = [
    "COOKIE_NAME",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SecurityHeaders",
    "assert_routes_follow_matrix",
    "build_staff_router",
    "current_principal",
    "install_staff",
    "public",
    "require",
    "require_api_key",
    "signing_in",
]
