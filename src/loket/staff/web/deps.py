"""FastAPI dependencies: who is calling, what the route needs, and the registry of those needs.

Every route declares exactly what it needs with one of: `require(permission)` (an active staff
session whose role has the permission), `signing_in` (a session still signing in), `require_api_key
(scope)` (an institution's system), or `PUBLIC` (no identity: login). `routecheck` walks an app's
routes against this registry and the permission matrix.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Request, Response

from loket.db.scope import SystemReason, bind_system, bind_tenant
from loket.staff.access import Principal
from loket.staff.apikeys import SCOPES, ApiKeyPrincipal
from loket.staff.errors import (
    Conflict,
    Forbidden,
    InvalidApiKey,
    InvalidCode,
    InvalidCredentials,
    InvalidRequest,
    NotFound,
    SessionInvalid,
    StaffError,
    Throttled,
    WrongStep,
)
from loket.staff.passwords import WeakPassword
from loket.staff.permissions import check_permission_name
from loket.staff.service import StaffService

COOKIE_NAME = "__Host-loket_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
PROBE_HEADER = "X-Loket-Probe"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class Requirement:
    kind: Literal["permission", "sign_in", "api_key", "public"]
    value: str  # the permission, the API key scope, or why the route is public


REGISTRY: dict[Callable[..., Any], Requirement] = {}

_STATUS: list[tuple[type[StaffError], int]] = [
    (InvalidCredentials, 401),
    (SessionInvalid, 401),
    (InvalidCode, 401),
    (InvalidApiKey, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (WrongStep, 409),
    (Conflict, 409),
    (InvalidRequest, 422),
    (Throttled, 429),
]


def to_http(exc: StaffError | WeakPassword) -> HTTPException:
    if isinstance(exc, WeakPassword):
        return HTTPException(422, detail={"message": str(exc), "problems": exc.problems})
    headers: dict[str, str] = {}
    if isinstance(exc, Throttled):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if isinstance(exc, InvalidApiKey):
        headers["WWW-Authenticate"] = "Bearer"
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
    return HTTPException(status, detail=str(exc), headers=headers or None)


@contextmanager
def http_errors() -> Iterator[None]:
    """Turn the typed staff errors raised inside into their HTTP answers."""
    try:
        yield
    except (StaffError, WeakPassword) as exc:
        raise to_http(exc) from None


def staff_of(request: Request) -> StaffService:
    staff = getattr(request.app.state, "staff", None)
    if not isinstance(staff, StaffService):
        raise RuntimeError("staff identity is not installed on this app: call loket.staff.web.install_staff")
    return staff


def client_address(request: Request) -> str:
    # uvicorn's --proxy-headers (with --forwarded-allow-ips) puts the real client here behind a proxy
    return request.client.host if request.client else "unknown"


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE_NAME)


async def check_csrf(request: Request, staff: StaffService, token: str | None) -> None:
    """Synchronizer token derived from the session token: state-changing requests must echo it."""
    if request.method in SAFE_METHODS:
        return
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    expected = staff.ctx.keys.csrf_token(token or "")
    if not token or not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Forbidden("CSRF token missing or invalid: send the csrf_token of this session")


async def current_principal(request: Request) -> Principal:
    """The signed-in staff member; the route-matrix walker overrides this dependency with probes."""
    staff = staff_of(request)
    token = session_token(request)
    with http_errors():
        principal = await staff.signin.principal(token)
        await check_csrf(request, staff, token)
    bind_principal_scope(principal)
    return principal


def bind_principal_scope(principal: Principal) -> None:
    """The rest of the request sees only the session's tenant (platform scope: the listed system scope)."""
    if principal.tenant_id is None:
        bind_system(SystemReason.PLATFORM_ADMIN)
    else:
        bind_tenant(principal.tenant_id)


@cache
def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: an active session whose role has `permission`; returns the principal."""
    check_permission_name(permission)

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.can(permission):
            raise HTTPException(403, detail=f"your role ({principal.role.value}) lacks the permission {permission}")
        if principal.probe:
            raise HTTPException(204, headers={PROBE_HEADER: "granted"})
        bind_principal_scope(principal)  # again: `current_principal` may be overridden
        return principal

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    REGISTRY[dependency] = Requirement("permission", permission)
    return dependency


async def signing_in(request: Request) -> str:
    """Dependency for the sign-in steps: a live session in any state, and its CSRF token; returns the token."""
    staff = staff_of(request)
    token = session_token(request)
    with http_errors():
        await staff.signin.session_of(token)
        await check_csrf(request, staff, token)
    assert token is not None
    return token


REGISTRY[signing_in] = Requirement("sign_in", "a session that is signing in")


@cache
def require_api_key(scope: str) -> Callable[..., Awaitable[ApiKeyPrincipal]]:
    """Dependency for institution systems: `Authorization: Bearer lkt_...` with `scope`."""
    if scope not in SCOPES:
        raise ValueError(f"unknown API key scope {scope!r}")

    async def dependency(request: Request) -> ApiKeyPrincipal:
        header = request.headers.get("authorization", "")
        kind, _, presented = header.partition(" ")
        with http_errors():
            if kind.lower() != "bearer":
                raise InvalidApiKey()
            principal = await staff_of(request).api_keys.verify(presented.strip(), scope)
        bind_tenant(principal.tenant_id)  # the key's tenant, whatever the request names
        return principal

    dependency.__name__ = f"api_key_{scope.replace(':', '_')}"
    REGISTRY[dependency] = Requirement("api_key", scope)
    return dependency


def public(reason: str) -> Any:
    """`dependencies=[public("...")]` for a route that needs no identity, with the reason written down."""

    async def dependency() -> None:
        return None

    REGISTRY[dependency] = Requirement("public", reason)
    return Depends(dependency)


def no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


def set_session_cookie(response: Response, token: str, *, max_age_seconds: int) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=max_age_seconds,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True, samesite="strict")


StaffDep = Annotated[StaffService, Depends(staff_of)]
