"""`/webhooks/whatsapp` over real HTTP: the handshake, signature checks, size limit, odd bodies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import orjson
import pytest
from sqlalchemy import func, select

from loket.config import Settings
from loket.db.engine import Database
from loket.db.models import InboundMessage, MessageStatus, WebhookEnvelope
from stack import Stack, running_stack
from support import TEST_APP_SECRET, TEST_SCOPE, TEST_VERIFY_TOKEN, signed, status_envelope, text_envelope

BANK_PNID = "114208873300501"


@pytest.fixture
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with running_stack(settings) as running:
        yield running


async def post(stack: Stack, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with stack.http.post(f"{stack.base}/webhooks/whatsapp", data=body, headers=headers or {}) as resp:
        return resp.status, await resp.text()


async def count(settings: Settings, model: type) -> int:
    db = Database(settings.effective_database_url, default_scope=TEST_SCOPE)
    try:
        async with db.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(model))).scalar_one())
    finally:
        await db.dispose()


async def test_verification_handshake_echoes_the_challenge(stack: Stack) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": TEST_VERIFY_TOKEN, "hub.challenge": "1158201444"}
    async with stack.http.get(f"{stack.base}/webhooks/whatsapp", params=params) as resp:
        assert resp.status == 200
        assert await resp.text() == "1158201444"
        assert resp.headers["content-type"].startswith("text/plain")


async def test_verification_with_wrong_token_is_forbidden(stack: Stack) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "x"}
    async with stack.http.get(f"{stack.base}/webhooks/whatsapp", params=params) as resp:
        assert resp.status == 403


async def test_missing_signature_is_401_and_nothing_is_stored(stack: Stack) -> None:
    body = orjson.dumps(text_envelope("wamid.NOSIG", "halo", pnid=BANK_PNID))
    status, _ = await post(stack, body, {"Content-Type": "application/json"})
    assert status == 401
    assert await count(stack.settings, WebhookEnvelope) == 0


async def test_wrong_signature_is_403(stack: Stack) -> None:
    body = orjson.dumps(text_envelope("wamid.BADSIG", "halo", pnid=BANK_PNID))
    status, _ = await post(stack, body, signed(body, "not-the-secret"))
    assert status == 403
    tampered = body.replace(b"halo", b"hal0")
    status, _ = await post(stack, tampered, signed(body, TEST_APP_SECRET))
    assert status == 403
    assert await count(stack.settings, WebhookEnvelope) == 0


async def test_body_over_three_megabytes_is_413(stack: Stack) -> None:
    body = b'{"object":"whatsapp_business_account","pad":"' + b"x" * (3 * 1024 * 1024) + b'"}'
    status, _ = await post(stack, body, signed(body, TEST_APP_SECRET))
    assert status == 413


async def test_malformed_json_with_valid_signature_is_acknowledged_and_kept(stack: Stack) -> None:
    body = b'{"object": "whatsapp_business_account", "entry": [{'
    status, _ = await post(stack, body, signed(body, TEST_APP_SECRET))
    assert status == 200
    assert await count(stack.settings, WebhookEnvelope) == 1


async def test_unknown_shape_and_fields_are_acknowledged(stack: Stack) -> None:
    envelope = text_envelope("wamid.EXTRA", "halo", pnid=BANK_PNID)
    envelope["entry"][0]["changes"][0]["value"]["messages"][0]["brand_new_field"] = {"x": 1}
    envelope["entry"][0]["changes"].append({"field": "something_new", "value": {"hello": "world"}})
    for body in (orjson.dumps(envelope), json.dumps({"totally": ["different"]}).encode()):
        status, _ = await post(stack, body, signed(body, TEST_APP_SECRET))
        assert status == 200
    assert await count(stack.settings, InboundMessage) == 1


async def test_same_envelope_three_times_is_one_message_and_one_reply(stack: Stack) -> None:
    customer = stack.customer("bank-nusantara", language="id")
    await stack.say(customer, type="text", text="menu")  # opens the customer service window
    assert len(await stack.replies(customer, 1)) == 1
    body = orjson.dumps(text_envelope("wamid.THRICE", "bantuan", pnid=BANK_PNID, wa_id=customer["wa_id"]))
    for _ in range(3):
        status, _ = await post(stack, body, signed(body, TEST_APP_SECRET))
        assert status == 200
    replies = await stack.replies(customer, 2)
    await asyncio.sleep(0.5)
    replies = await stack.replies(customer, 2)
    assert len(replies) == 2
    assert "Ini yang bisa saya bantu" in replies[1]["payload"]["text"]["body"]
    assert await count(stack.settings, InboundMessage) == 2


async def test_statuses_out_of_order_are_stored_and_acknowledged(stack: Stack) -> None:
    body = orjson.dumps(status_envelope([("wamid.OOO", "read"), ("wamid.OOO", "delivered")], pnid=BANK_PNID))
    status, _ = await post(stack, body, signed(body, TEST_APP_SECRET))
    assert status == 200
    body = orjson.dumps(status_envelope([("wamid.OOO", "failed"), ("wamid.OOO", "sent")], pnid=BANK_PNID))
    status, _ = await post(stack, body, signed(body, TEST_APP_SECRET))
    assert status == 200
    assert await count(stack.settings, MessageStatus) == 4


async def test_health_readiness_and_metrics(stack: Stack) -> None:
    async with stack.http.get(f"{stack.base}/healthz") as resp:
        assert resp.status == 200
    async with stack.http.get(f"{stack.base}/readyz") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "ready"
    body = orjson.dumps(text_envelope("wamid.UNKNOWNPN", "halo", pnid="999000000000999"))
    status, _ = await post(stack, body, signed(body, TEST_APP_SECRET))
    assert status == 200
    async with stack.http.get(f"{stack.base}/metrics") as resp:
        text = await resp.text()
    assert "loket_webhook_unknown_phone_number_total" in text
    assert "loket_webhook_requests_total" in text
