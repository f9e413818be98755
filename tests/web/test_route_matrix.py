"""Every route of the assembled application declares what it needs, and the permission matrix holds
for every role (docs/permissions.md is generated from the same table)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from loket.clock import system_clock
from loket.config import Settings
from loket.core.demo.institution import DemoCore
from loket.demo_server import build_demo_app
from loket.staff.web.routecheck import assert_routes_follow_matrix

# Not staff API routes: Meta's webhooks (signed), the Flow data endpoint (signed and encrypted),
# probes, metrics, and the sandbox (a separate product mounted in the demo only).
EXEMPT = {
    "/webhooks/whatsapp",
    "/webhooks/whatsapp/flows",
    "/healthz",
    "/readyz",
    "/metrics",
    "/sandbox",
}


async def test_every_route_follows_the_permission_matrix(settings: Settings) -> None:
    wrapper = await asyncio.to_thread(build_demo_app, settings, DemoCore.generate(system_clock))
    app = getattr(wrapper, "app", wrapper)
    assert isinstance(app, FastAPI)
    await assert_routes_follow_matrix(app, exempt=EXEMPT)
