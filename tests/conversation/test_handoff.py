"""Human handoff over the real path: the customer asks for a person, the bot says so with the
expected wait and goes quiet; an agent lists the queue, reads, replies through the outbox and hands
back through the agent API (staff permissions enforced)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from script_support import BANK, Script, body_of, customer_of, scripted_stack

from loket.config import Settings
from loket.db.engine import Database
from loket.dialogue.agent_api import build_agent_router
from loket.staff.access import Principal
from loket.staff.permissions import Role
from loket.staff.web.deps import current_principal
from stack import Stack, free_port
from support import TEST_SCOPE


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with scripted_stack(settings) as running:
        yield running


@asynccontextmanager
async def agent_api(stack: Stack, role: Role, tenant_id: str = BANK) -> AsyncIterator[str]:
    """The agent router on its own app, with the signed-in staff member stood in for by `role`."""
    db = Database(stack.settings.effective_database_url, default_scope=TEST_SCOPE)
    app = FastAPI()
    app.include_router(build_agent_router(db))
    app.dependency_overrides[current_principal] = lambda: Principal("agent-1", "session-1", tenant_id, role)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1/agent"
    finally:
        server.should_exit = True
        await task
        await db.dispose()


async def call(stack: Stack, method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    async with stack.http.request(method, url, json=body) as resp:
        return resp.status, await resp.json()


async def test_handoff_queue_agent_reply_and_handback(stack: Stack) -> None:
    script = Script(stack, customer_of(stack, BANK, "id"))
    [queued] = await script.says("saya mau bicara dengan CS")
    assert "teruskan ke petugas" in body_of(queued) and "sekitar 3 menit" in body_of(queued)
    await stack.say(script.customer, type="text", text="halo? masih di sana?")
    await script.quiet(1.5)  # the bot stays quiet while a person has the conversation

    async with agent_api(stack, Role.AUDITOR) as url:
        status, _ = await call(stack, "GET", f"{url}/conversations")
        assert status == 403  # auditors lack conversations.read
    async with agent_api(stack, Role.AGENT, tenant_id="asuransi-sejahtera") as url:
        status, listed = await call(stack, "GET", f"{url}/conversations")
        assert status == 200 and listed["conversations"] == []  # another tenant's queue
    async with agent_api(stack, Role.AGENT) as url:
        status, listed = await call(stack, "GET", f"{url}/conversations?status=waiting")
        assert status == 200
        [waiting] = listed["conversations"]
        assert waiting["reason"] == "asked" and "talk_to_human" in waiting["summary"]
        assert script.customer["wa_id"] not in str(waiting)  # masked for agents
        status, read = await call(stack, "GET", f"{url}/conversations/{waiting['id']}/messages")
        assert [m["text"] for m in read["messages"]][-2:] == ["saya mau bicara dengan CS", "halo? masih di sana?"]
        status, _ = await call(
            stack,
            "POST",
            f"{url}/conversations/{waiting['id']}/reply",
            {"text": "Silakan kirimkan kode OTP Anda untuk verifikasi"},
        )
        assert status == 422
        status, replied = await call(
            stack,
            "POST",
            f"{url}/conversations/{waiting['id']}/reply",
            {"text": "Halo, saya Rina dari Bank Nusantara. Ada yang bisa dibantu?", "client_ref": "r1"},
        )
        assert status == 202 and replied["conversation"]["status"] == "active"
        await call(
            stack,
            "POST",
            f"{url}/conversations/{waiting['id']}/reply",
            {"text": "Halo, saya Rina dari Bank Nusantara. Ada yang bisa dibantu?", "client_ref": "r1"},
        )
        [agent_message] = await script.expect(1)
        assert body_of(agent_message).startswith("Halo, saya Rina")
        status, back = await call(stack, "POST", f"{url}/conversations/{waiting['id']}/handback")
        assert status == 200 and back["conversation"]["status"] == "closed"
        [handed_back] = await script.expect(1)
        assert "kembali dilayani asisten otomatis" in body_of(handed_back)
        status, _ = await call(stack, "POST", f"{url}/conversations/{waiting['id']}/handback")
        assert status == 409
    await script.quiet(0.5)  # the repeated reply with the same client_ref was sent once
    [help_text] = await script.says("bantuan")
    assert "Ini yang bisa saya bantu" in body_of(help_text)


async def test_english_customer_asks_for_an_agent(stack: Stack) -> None:
    script = Script(stack, customer_of(stack, BANK, "en"))
    [queued] = await script.says("can I talk to a human agent please")
    assert "passed this conversation to one of our agents" in body_of(queued) and "about 3 minutes" in body_of(queued)
    await stack.say(script.customer, type="text", text="hello??")
    await script.quiet(1.0)
