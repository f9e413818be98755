"""Every console route declares its permission and the matrix holds for every role; the shell's pages
registration hook, static files and safe redirects."""

from __future__ import annotations

from console_harness import ConsoleWorld
from fastapi import APIRouter, FastAPI

from loket.console.app import build_console_router
from loket.console.login import safe_next
from loket.console.pages import ConsolePage, NavEntry, discover, navigation
from loket.staff.web.deps import public
from loket.staff.web.routecheck import assert_routes_follow_matrix, route_needs


async def test_console_routes_follow_the_permission_matrix(console_world: ConsoleWorld) -> None:
    await assert_routes_follow_matrix(console_world.app)
    paths = {route.path for route in route_needs(console_world.app)}
    assert {"/console/inbox", "/console/inbox/events", "/console/dashboard", "/console/login"} <= paths


def test_registered_pages_are_included_and_their_navigation_sorted() -> None:
    router = APIRouter()

    @router.get("/extra", dependencies=[public("a test page")])
    async def extra() -> dict[str, str]:
        return {}

    page = ConsolePage(router, NavEntry("console.nav.inbox", "/console/extra", "reports.read", order=5))
    app = FastAPI()
    app.include_router(build_console_router([page]))
    assert "/console/extra" in {route.path for route in route_needs(app)}
    assert next(n.path for n in navigation([page, *discover()])) == "/console/extra"


async def test_static_files_and_unknown_ones(console_world: ConsoleWorld) -> None:
    client = console_world.client()
    script = await client.get("/console/static/inbox.js")
    assert script.status == 200 and script.header(
        "content-type",
    ).startswith("text/javascript")
    assert (await client.get("/console/static/../app.py")).status == 404
    assert (await client.get("/console/static/nothing.js")).status == 404
    front = await client.get("/console/")
    assert front.status == 303 and front.header("location") == "/console/inbox"


def test_redirect_targets_stay_inside_the_console() -> None:
    assert safe_next("/console/inbox?tab=mine") == "/console/inbox?tab=mine"
    for hostile in ("https://evil.example/", "//evil.example", "/console/login", "/\\evil", None, ""):
        assert safe_next(hostile) == "/console/inbox"
