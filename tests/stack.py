"""A running Loket with the sandbox mounted, served by uvicorn inside the test's event loop.

The same assembly as `loket demo`, on the test's database, so conversation tests travel the real
path: signed webhook in, durable rows, processing, outbox, Graph API call to the sandbox.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import uvicorn

from loket.clock import Clock, system_clock
from loket.config import Settings
from loket.core.demo.institution import DemoCore
from loket.db.engine import Database
from loket.demo import seed_summary, seed_tenants
from loket.demo_server import build_demo_app
from loket.sandbox.settings import SandboxSettings
from loket.security.secretbox import SecretBox


def relaxed_pair_rate(conf: SandboxSettings) -> None:
    conf.pair_rate_interval_seconds = 0.05
    conf.pair_rate_burst = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    base: str
    settings: Settings
    core: DemoCore
    summary: dict[str, Any]
    http: aiohttp.ClientSession

    def customer(self, tenant_id: str, *, language: str | None = None) -> dict[str, Any]:
        for customer in self.summary["customers"]:
            if customer["tenant_id"] == tenant_id and (language is None or customer["language"] == language):
                return dict(customer)
        raise LookupError(tenant_id)

    def pnid(self, tenant_id: str) -> str:
        return str(next(t["phone_number_id"] for t in self.summary["tenants"] if t["tenant_id"] == tenant_id))

    async def send(self, wa_id: str, **spec: Any) -> dict[str, Any]:
        async with self.http.post(f"{self.base}/sandbox/_sandbox/inbound", json={"wa_id": wa_id, **spec}) as resp:
            body: dict[str, Any] = await resp.json()
            assert resp.status == 200, body
            return body

    async def say(self, customer: dict[str, Any], **spec: Any) -> dict[str, Any]:
        """Send as this demo customer to the business number of their institution."""
        return await self.send(customer["wa_id"], phone_number_id=customer["phone_number_id"], **spec)

    async def replies(self, customer: dict[str, Any], count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        return await self.outbound(customer["phone_number_id"], customer["wa_id"], count, timeout)

    async def sandbox(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST to the sandbox's control API (`/_sandbox/<path>`), e.g. `flows/open`."""
        async with self.http.post(f"{self.base}/sandbox/_sandbox/{path}", json=body) as resp:
            return resp.status, await resp.json()

    async def chat(self, pnid: str, wa_id: str) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.base}/sandbox/_sandbox/chats/{pnid}/{wa_id}") as resp:
            body = await resp.json()
            return list(body["messages"])

    async def outbound(self, pnid: str, wa_id: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the customer's phone has received `count` messages from the business."""
        deadline = time.monotonic() + timeout
        while True:
            messages = [m for m in await self.chat(pnid, wa_id) if m["direction"] == "out"]
            if len(messages) >= count or time.monotonic() > deadline:
                return messages
            await asyncio.sleep(0.05)


@asynccontextmanager
async def running_stack(
    settings: Settings,
    tune_sandbox: Callable[[SandboxSettings], None] | None = None,
    *,
    clock: Clock = system_clock,
) -> AsyncIterator[Stack]:
    """`tune_sandbox` adjusts the emulator (pair rate, faults); by default the pair rate is relaxed
    so that conversation tests need not wait six seconds between replies."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"public_url": base, "graph_api_url": f"{base}/sandbox/v23.0"})
    db = Database(settings.effective_database_url)
    await seed_tenants(db, SecretBox(settings.master_key_bytes))
    await db.dispose()
    core = DemoCore.generate(system_clock)
    app = await asyncio.to_thread(
        build_demo_app, settings, core, tune_sandbox=tune_sandbox or relaxed_pair_rate, clock=clock
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        async with aiohttp.ClientSession() as http:
            yield Stack(base, settings, core, await seed_summary(core), http)
    finally:
        server.should_exit = True
        await task
