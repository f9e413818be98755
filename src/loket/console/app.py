"""The console router (/console) and installing the console on an application.

`install_console(app)` includes `build_console_router()` (the shell, sign-in, inbox, dashboard and
every page registered through `loket.console.pages`), keeps the navigation on `app.state`, gives the
inbox its event bus, and turns "not signed in" on a console page into a redirect to the login page.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loket.console.bus import InboxBus, ensure_bus, install_bus
from loket.console.dashboard import add_dashboard_routes
from loket.console.inbox import add_inbox_routes
from loket.console.login import add_login_routes
from loket.console.pages import ConsolePage, NavEntry, discover, navigation
from loket.console.teams import add_team_routes
from loket.staff.web.deps import no_store, public

PREFIX = "/console"
STATIC = Path(__file__).with_name("static")
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}

OWN_NAV = (
    NavEntry("console.nav.inbox", "/console/inbox", "conversations.read", order=10, shortcut="i"),
    NavEntry("console.nav.dashboard", "/console/dashboard", "reports.read", order=20, shortcut="d"),
    NavEntry("console.nav.teams", "/console/teams", "conversations.assign", order=25),
)


def _static_routes(router: APIRouter) -> None:
    files = {p.name: p for p in STATIC.iterdir() if p.suffix in _STATIC_TYPES}

    @router.get("/static/{name}", dependencies=[public("the console's own stylesheet and script, no data")])
    async def static(name: str) -> Response:
        path = files.get(name)
        if path is None:
            raise HTTPException(404, detail="no such file")
        return Response(
            path.read_bytes(),
            media_type=_STATIC_TYPES[path.suffix],
            headers={"Cache-Control": "public, max-age=300"},
        )


def build_console_router(pages: list[ConsolePage] | None = None) -> APIRouter:
    """Every console route under /console: own pages first, then the registered ones."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/", dependencies=[public("the console's front door: only a redirect to the inbox")])
    async def front_door() -> Response:
        return RedirectResponse("/console/inbox", status_code=303)

    _static_routes(router)
    add_login_routes(router)
    add_inbox_routes(router)
    add_dashboard_routes(router)
    add_team_routes(router)
    for page in discover() if pages is None else pages:
        router.include_router(page.router, dependencies=[Depends(no_store)])
    return router


async def _console_errors(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    path = request.url.path
    browser = "text/html" in request.headers.get("accept", "")  # a page or a form, not a script or a probe
    if exc.status_code == 401 and browser and path.startswith(PREFIX + "/"):
        target = path if request.method == "GET" else "/console/inbox"
        return RedirectResponse(f"/console/login?next={quote(target)}", status_code=303)
    return await http_exception_handler(request, exc)


class ServerTiming:
    """`Server-Timing: app;dur=<ms>` on console pages: the time the process spent producing the answer's
    head (what the benchmark reports as server time, and what a browser's devtools show)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                MutableHeaders(scope=message).append("Server-Timing", f"app;dur={elapsed:.1f}")
            await send(message)

        await self.app(scope, receive, timed)


def install_console(app: FastAPI, *, bus: InboxBus | None = None, redis_url: str | None = None) -> None:
    pages = discover()
    app.state.console_nav = navigation([*(ConsolePage(APIRouter(), nav) for nav in OWN_NAV), *pages])
    app.state.console_bus = install_bus(bus) if bus is not None else ensure_bus(redis_url)
    app.include_router(build_console_router(pages))
    app.add_exception_handler(StarletteHTTPException, _console_errors)
    app.add_middleware(ServerTiming)


def console_bus(app: Any) -> InboxBus:
    bus = getattr(app.state, "console_bus", None)
    if not isinstance(bus, InboxBus):
        raise RuntimeError("the console is not installed on this app: call loket.console.app.install_console")
    return bus
