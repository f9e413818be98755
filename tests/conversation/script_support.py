"""Conversation scripts over the real path (simulator -> signed webhook -> Loket -> sandbox): a customer
says X, the bot answers Y. Also the institution's app (the sandbox's step-up pane, over HTTP) and
webhooks the simulator cannot make (stickers, voice notes, forwarded messages, system events)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson

from loket.config import Settings
from stack import Stack, running_stack
from support import TEST_APP_SECRET, signed

BANK = "bank-nusantara"
INSURER = "asuransi-sejahtera"
_ids = itertools.count(1)


def fast(settings: Settings, **extra: Any) -> Settings:
    """Settings for scripts: the step-up watcher looks every 0.2 s instead of every 2 s."""
    return settings.model_copy(update={"step_up_poll_seconds": 0.2, **extra})


@asynccontextmanager
async def scripted_stack(settings: Settings, **extra: Any) -> AsyncIterator[Stack]:
    async with running_stack(fast(settings, **extra)) as stack:
        yield stack


def body_of(message: dict[str, Any]) -> str:
    payload = message["payload"]
    kind = payload["type"]
    if kind == "text":
        return str(payload["text"]["body"])
    if kind == "interactive":
        return str(payload["interactive"]["body"]["text"])
    if kind == "document":
        return str(payload["document"].get("caption", ""))
    return ""


def buttons_of(message: dict[str, Any]) -> list[tuple[str, str]]:
    interactive = message["payload"].get("interactive") or {}
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
    if interactive.get("type") == "list":
        return [(row["id"], row["title"]) for section in action["sections"] for row in section["rows"]]
    return []


class Script:
    """One customer's conversation; `says`/`taps` return only the bot's new messages."""

    def __init__(self, stack: Stack, customer: dict[str, Any]) -> None:
        self.stack = stack
        self.customer = customer
        self.seen = 0

    @property
    def tenant_id(self) -> str:
        return str(self.customer["tenant_id"])

    async def expect(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        out = await self.stack.replies(self.customer, self.seen + count, timeout)
        new = out[self.seen :]
        assert len(new) >= count, f"expected {count} new replies, got {[body_of(m)[:80] for m in new]}"
        self.seen += len(new)
        return new

    async def quiet(self, seconds: float = 1.0) -> None:
        """Nothing more arrives for `seconds`."""
        await asyncio.sleep(seconds)
        out = await self.stack.replies(self.customer, self.seen, 0.1)
        assert len(out) == self.seen, f"unexpected replies: {[body_of(m)[:80] for m in out[self.seen :]]}"

    async def says(self, text: str, expect: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        await self.stack.say(self.customer, type="text", text=text)
        return await self.expect(expect, timeout)

    async def taps(self, reply_id: str, expect: int = 1, *, message_id: str | None = None) -> list[dict[str, Any]]:
        kind = (
            "list_reply"
            if reply_id.startswith(("menu:",)) or ":topic." in reply_id or ":product." in reply_id
            else None
        )
        spec: dict[str, Any] = {"type": kind or "button_reply"}
        spec["row_id" if kind else "reply_id"] = reply_id
        if message_id is not None:
            spec["message_id"] = message_id
        try:
            await self.stack.say(self.customer, **spec)
        except AssertionError:
            if kind is not None:
                raise
            await self.stack.say(
                self.customer, type="list_reply", row_id=reply_id, **({"message_id": message_id} if message_id else {})
            )
        return await self.expect(expect)

    async def pending_step_ups(self) -> list[dict[str, Any]]:
        url = f"{self.stack.base}/sandbox/core/v1/tenants/{self.tenant_id}/step-ups"
        params = {"customer_id": self.customer["customer_id"], "status": "pending"}
        async with self.stack.http.get(url, params=params) as resp:
            assert resp.status == 200, await resp.text()
            return list((await resp.json())["items"])

    async def decide(self, request_id: str, approve: bool = True) -> tuple[int, dict[str, Any]]:
        url = f"{self.stack.base}/sandbox/core/v1/tenants/{self.tenant_id}/step-ups/{request_id}/decision"
        async with self.stack.http.post(url, json={"approve": approve}) as resp:
            return resp.status, await resp.json()

    async def approve_in_app(self, approve: bool = True) -> dict[str, Any]:
        """What the customer does in the institution's app: approve (or reject) the pending request."""
        deadline = time.monotonic() + 5
        while not (pending := await self.pending_step_ups()):
            assert time.monotonic() < deadline, "no step-up request is pending"
            await asyncio.sleep(0.05)
        status, decided = await self.decide(pending[0]["request_id"], approve)
        assert status == 200, decided
        return decided

    async def webhook(self, message: dict[str, Any], *, wa_id: str | None = None) -> None:
        """Deliver a webhook the simulator cannot make, signed like Meta's, to Loket."""
        sender = wa_id or self.customer["wa_id"]
        envelope = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "200000000000001",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "628111500123",
                                    "phone_number_id": self.customer["phone_number_id"],
                                },
                                "contacts": [{"profile": {"name": "Pelanggan"}, "wa_id": sender}],
                                "messages": [
                                    {
                                        "from": sender,
                                        "id": f"wamid.SCRIPT.{next(_ids)}.{time.time_ns()}",
                                        "timestamp": str(int(time.time())),
                                        **message,
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
        body = orjson.dumps(envelope)
        async with self.stack.http.post(
            f"{self.stack.base}/webhooks/whatsapp", data=body, headers=signed(body, TEST_APP_SECRET)
        ) as resp:
            assert resp.status == 200, await resp.text()


def customer_of(stack: Stack, tenant_id: str, language: str | None = None, index: int = 0) -> dict[str, Any]:
    found = [
        c
        for c in stack.summary["customers"]
        if c["tenant_id"] == tenant_id and (language is None or c["language"] == language)
    ]
    return dict(found[index])
