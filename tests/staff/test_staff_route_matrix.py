"""Every route declares what it needs, and every role gets exactly what the matrix says."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from staff_harness import World

from loket.staff.access import Principal
from loket.staff.web import assert_routes_follow_matrix, public, require, require_api_key
from loket.staff.web.deps import REGISTRY, Requirement
from loket.staff.web.routecheck import check_routes, route_needs


async def test_the_staff_router_follows_the_matrix(world: World) -> None:
    await assert_routes_follow_matrix(world.app)
    needs = {(r.path, m): r.needs for r in route_needs(world.app) for m in r.methods}
    assert needs[("/v1/staff/users", "POST")] == (Requirement("permission", "staff.manage"),)
    assert needs[("/v1/staff/api-keys/{key_id}", "DELETE")] == (Requirement("permission", "apikeys.manage"),)
    assert needs[("/v1/staff/totp/verify", "POST")][0].kind == "sign_in"
    assert needs[("/v1/staff/login", "POST")][0].kind == "public"


async def test_the_walker_accepts_other_routers_that_declare_their_needs(world: World) -> None:
    app = world.app

    @app.get("/v1/conversations/{conversation_id:int}")
    async def read(_: Annotated[Principal, Depends(require("conversations.read"))], conversation_id: int) -> None:
        raise AssertionError("the walker never reaches a handler")

    @app.post("/v1/customers/{customer_id}/reveal", dependencies=[Depends(require("customers.pii.reveal"))])
    async def reveal(customer_id: str) -> None:
        raise AssertionError("the walker never reaches a handler")

    @app.post("/v1/events")
    async def events(_: Annotated[Any, Depends(require_api_key("events:write"))]) -> None:
        raise AssertionError("no key, no handler")

    @app.get("/v1/ping", dependencies=[public("liveness for the load balancer")])
    async def ping() -> dict[str, str]:
        return {"ok": "yes"}

    await assert_routes_follow_matrix(app)


async def test_the_walker_reports_undeclared_routes_and_unlisted_mounts(world: World) -> None:
    app = world.app

    @app.get("/v1/forgotten")
    async def forgotten() -> None:
        return None

    app.mount("/sandbox", FastAPI())
    with pytest.raises(AssertionError) as failure:
        await assert_routes_follow_matrix(app)
    message = str(failure.value)
    assert "/v1/forgotten: declares no requirement" in message
    assert "/sandbox: not an API route and not listed as exempt" in message


async def test_the_walker_catches_a_guard_that_does_not_guard(world: World) -> None:
    app = FastAPI()

    async def lax_guard() -> None:
        return None  # claims audit.read but lets everyone in

    REGISTRY[lax_guard] = Requirement("permission", "audit.read")

    @app.get("/v1/audit", dependencies=[Depends(lax_guard)])
    async def audit() -> dict[str, str]:
        return {}

    try:
        problems = await check_routes(app)
    finally:
        del REGISTRY[lax_guard]
    assert "GET /v1/audit as agent: expected 403, got 200" in problems
    assert "GET /v1/audit as auditor: expected granted, got 200" in problems
