"""The live inbox on the real path: a customer asks for a person through the signed webhook, the
processor opens a handoff, and the agent's event stream announces it; the queue page then lists it."""

from __future__ import annotations

import asyncio
import json

from live_support import Browserless, demo_logins, sign_in

from loket.clock import system_clock
from loket.config import Settings
from stack import running_stack

BANK = "bank-nusantara"


async def test_a_customer_asking_for_a_person_appears_on_the_agents_stream(settings: Settings) -> None:
    async with running_stack(settings) as stack:
        logins = await demo_logins(stack.settings.effective_database_url, stack.settings.master_key_bytes)
        agent = next(login for login in logins if login.tenant_id == BANK and login.role.value == "agent")
        other = next(login for login in logins if login.tenant_id != BANK and login.role.value == "agent")
        client, elsewhere = Browserless(stack.base, stack.http), Browserless(stack.base, stack.http)
        await sign_in(client, agent, system_clock.now())
        await sign_in(elsewhere, other, system_clock.now())
        customer = stack.customer(BANK, language="id")
        async with (
            stack.http.get(stack.base + "/console/inbox/events", headers=client.headers()) as mine,
            stack.http.get(stack.base + "/console/inbox/events", headers=elsewhere.headers()) as theirs,
        ):
            assert mine.status == 200 and mine.headers["Content-Type"].startswith("text/event-stream")
            assert b"connected" in await mine.content.readuntil(b"\n\n")
            assert b"connected" in await theirs.content.readuntil(b"\n\n")
            await stack.say(customer, type="text", text="saya mau bicara dengan CS")
            event = await asyncio.wait_for(mine.content.readuntil(b"\n\n"), timeout=10)
            assert event.startswith(b"event: inbox\n")
            data = json.loads(event.split(b"data: ", 1)[1])
            assert data["kind"] == "handoff.created" and isinstance(data["handoff_id"], int)
            assert "wa_id" not in data and customer["wa_id"] not in event.decode()
            # the other institution's agent hears nothing of it
            try:
                heard = await asyncio.wait_for(theirs.content.readuntil(b"\n\n"), timeout=1)
            except TimeoutError:
                heard = b""
            assert b"handoff.created" not in heard
        status, html = await client.get("/console/inbox?tab=waiting")
        assert status == 200 and f'data-id="{data["handoff_id"]}"' in html
        status, html = await elsewhere.get("/console/inbox?tab=all")
        assert f'data-id="{data["handoff_id"]}"' not in html
