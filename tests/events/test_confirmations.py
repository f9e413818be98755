"""Transaction confirmations: the request, each answer, step-up, expiry, and the signed callback."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

import orjson
import pytest
from aiohttp import web
from events_support import BANK, Harness, confirmation, make_harness
from sqlalchemy import select

from loket.config import Settings
from loket.confirmations.machine import Reply
from loket.core.port import CoreError
from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.events.signing import verify
from loket.events.tables import Confirmation, FraudSignal, InstitutionCallback
from stack import free_port


@pytest.fixture
async def harness(db: Database, settings: Settings) -> Harness:
    return await make_harness(db, settings)


async def request(harness: Harness, index: int = 0, **kwargs: Any) -> tuple[dict[str, Any], str]:
    customer = harness.customer(index)
    answer = await harness.post("/v1/events", confirmation(customer["customer_id"], **kwargs))
    assert answer.status == 202, answer.body
    return customer, answer.body["outcome"]["confirmation_id"]


async def tap(harness: Harness, customer: dict[str, Any], confirmation_id: str, reply: Reply) -> list[Any]:
    async with harness.db.transaction() as session:
        messages = await harness.services.taps.handle(
            session,
            tenant_id=BANK,
            wa_id=customer["wa_id"],
            reply_id=f"cfm:{confirmation_id}:{reply.value}",
            reply_wamid=f"wamid.tap.{reply.value}",
            language="id",
            institution="Bank Nusantara",
            call_centre="1500123",
        )
    return [m.to_payload() for m in messages]


async def row(harness: Harness, confirmation_id: str) -> Confirmation:
    async with harness.db.sessions() as session:
        found = await session.get(Confirmation, confirmation_id)
        assert found is not None
        return found


async def callbacks(harness: Harness) -> list[InstitutionCallback]:
    async with harness.db.sessions() as session:
        return list((await session.execute(select(InstitutionCallback).order_by(InstitutionCallback.id))).scalars())


async def test_the_request_is_an_interactive_message_with_its_evidence(harness: Harness) -> None:
    _, confirmation_id = await request(harness)
    async with harness.db.sessions() as session:
        [message] = (await session.execute(select(OutboxMessage))).scalars()
    assert (message.purpose, message.priority) == ("confirmation", 1)
    buttons = message.payload["interactive"]["action"]["buttons"]
    assert [(b["reply"]["id"], b["reply"]["title"]) for b in buttons] == [
        (f"cfm:{confirmation_id}:yes", "Ya, saya"),
        (f"cfm:{confirmation_id}:no", "Bukan saya"),
    ]
    assert "Rp2.500.000" in message.payload["interactive"]["body"]["text"]
    assert message.fallback is not None and message.fallback["template"]["name"] == "loket_transaction_confirmation"
    stored = await row(harness, confirmation_id)
    digest = hashlib.sha256(orjson.dumps(stored.shown, option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert stored.shown_sha256 == digest and stored.state == "pending" and not stored.needs_step_up


async def test_ya_saya_confirms_a_low_risk_request_and_tells_the_institution(harness: Harness) -> None:
    customer, confirmation_id = await request(harness)
    replies = await tap(harness, customer, confirmation_id, Reply.YES)
    assert "sudah Anda konfirmasi" in replies[0]["text"]["body"]
    stored = await row(harness, confirmation_id)
    assert (stored.state, stored.reply_wamid) == ("confirmed", "wamid.tap.yes")
    [callback] = await callbacks(harness)
    data = callback.body["data"]
    assert (callback.kind, data["state"], data["evidence"]["shown_sha256"]) == (
        "confirmation.decided",
        "confirmed",
        stored.shown_sha256,
    )
    assert data["evidence"]["reply_message_id"] == "wamid.tap.yes" and data["evidence"]["loket_message_id"]
    again = await tap(harness, customer, confirmation_id, Reply.NO)
    assert "sudah tidak berlaku" in again[0]["text"]["body"]
    assert (await row(harness, confirmation_id)).state == "confirmed"


async def test_bukan_saya_blocks_the_card_records_fraud_and_offers_a_person(harness: Harness) -> None:
    customer = harness.customer(0)
    account = customer["accounts"][0]
    linked = [c for c in customer["cards"] if c.linked_account_id == account.account_id]
    assert linked, "the demo customer has a debit card on the account"
    _, confirmation_id = await request(harness, account_id=account.account_id)
    replies = await tap(harness, customer, confirmation_id, Reply.NO)
    body = replies[0]["interactive"]["body"]["text"]
    assert "dihentikan" in body and "sudah kami blokir" in body and "iasc.ojk.go.id" in body
    [hold] = harness.core.holds(BANK)
    assert f"Bank Nusantara sudah menahan transaksi ini (nomor referensi {hold.reference})" in body
    assert f"•••• {linked[0].masked_number[-4:]}" in body
    assert replies[0]["interactive"]["action"]["buttons"][0]["reply"]["id"] == f"cfm:{confirmation_id}:agent"
    cards = {c.card_id: c for c in await harness.core.list_cards(BANK, customer["customer_id"])}
    assert all(cards[c.card_id].status.value == "blocked" for c in linked)
    stored = await row(harness, confirmation_id)
    assert stored.state == "denied" and stored.actions and stored.actions["card_blocks"]
    assert stored.actions["transaction_hold"]["reference"] == hold.reference
    assert (hold.transaction_ref, hold.account_id) == (stored.transaction_ref or stored.event_id, account.account_id)
    async with harness.db.sessions() as session:
        [signal] = (await session.execute(select(FraudSignal))).scalars()
    assert (signal.kind, signal.ref) == ("confirmation.denied", confirmation_id)
    await tap(harness, customer, confirmation_id, Reply.AGENT)
    assert [c.kind for c in await callbacks(harness)] == ["confirmation.decided", "customer.contact_requested"]


async def test_bukan_saya_when_the_core_cannot_hold_tells_the_customer_to_call(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(*args: Any, **kwargs: Any) -> Any:
        raise CoreError("core down", retryable=True)

    monkeypatch.setattr(harness.core, "hold_transaction", down)
    customer, confirmation_id = await request(harness)
    replies = await tap(harness, customer, confirmation_id, Reply.NO)
    body = replies[0]["interactive"]["body"]["text"]
    assert "dihentikan" in body and "belum berhasil meminta Bank Nusantara menahan" in body and "1500123" in body
    stored = await row(harness, confirmation_id)
    assert stored.state == "denied" and stored.actions and stored.actions["transaction_hold_error"] == "CoreError"
    [callback] = await callbacks(harness)
    assert callback.body["data"]["actions"]["transaction_hold_error"] == "CoreError"
    async with harness.db.sessions() as session:
        assert [s.kind for s in (await session.execute(select(FraudSignal))).scalars()] == ["confirmation.denied"]


async def test_a_high_risk_request_needs_the_apps_step_up(harness: Harness) -> None:
    customer, confirmation_id = await request(harness, risk="high")
    replies = await tap(harness, customer, confirmation_id, Reply.YES)
    assert "buka aplikasi Bank Nusantara" in replies[0]["text"]["body"]
    stored = await row(harness, confirmation_id)
    assert stored.state == "step_up_pending" and stored.step_up_id
    jobs = harness.services
    assert await jobs._step_ups() == 0  # still pending in the app
    await harness.core.decide_step_up(BANK, str(stored.step_up_id), True)
    assert await jobs._step_ups() == 1
    assert (await row(harness, confirmation_id)).state == "confirmed"
    [callback] = await callbacks(harness)
    assert callback.body["data"]["step_up"]["request_id"] == stored.step_up_id


async def test_a_rejected_step_up_fails_the_confirmation(harness: Harness) -> None:
    customer, confirmation_id = await request(harness, risk="medium", amount=50_000_000)
    await tap(harness, customer, confirmation_id, Reply.YES)
    stored = await row(harness, confirmation_id)
    await harness.core.decide_step_up(BANK, str(stored.step_up_id), False)
    assert await harness.services._step_ups() == 1
    assert (await row(harness, confirmation_id)).state == "step_up_failed"


async def test_no_answer_before_expiry_is_expired_and_reported(harness: Harness) -> None:
    customer, confirmation_id = await request(harness, minutes=5)
    assert await harness.services._expire() == 0
    harness.clock.advance(timedelta(minutes=6).total_seconds())
    assert await harness.services._expire() == 1
    assert (await row(harness, confirmation_id)).state == "expired"
    [callback] = await callbacks(harness)
    assert callback.body["data"]["state"] == "expired"
    late = await tap(harness, customer, confirmation_id, Reply.YES)
    assert "sudah tidak berlaku" in late[0]["text"]["body"]


async def test_a_tap_from_someone_else_changes_nothing(harness: Harness) -> None:
    _, confirmation_id = await request(harness)
    replies = await tap(harness, harness.customer(1), confirmation_id, Reply.NO)
    assert "tidak menemukan" in replies[0]["text"]["body"]
    assert (await row(harness, confirmation_id)).state == "pending"


async def test_the_status_is_pollable_by_the_institution(harness: Harness) -> None:
    customer, confirmation_id = await request(harness)
    await tap(harness, customer, confirmation_id, Reply.YES)
    answer = await harness.get(f"/v1/confirmations/{confirmation_id}")
    assert (answer.status, answer.body["state"]) == (200, "confirmed")
    assert (await harness.get("/v1/confirmations/cfm_nope")).status == 404


async def test_callbacks_are_signed_and_retried_until_delivered(harness: Harness) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []
    failures = [1]

    async def handler(request: web.Request) -> web.Response:
        if failures[0]:
            failures[0] -= 1
            return web.Response(status=503)
        received.append((await request.read(), dict(request.headers)))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/callbacks", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await harness.services.endpoints.set_callback_url(BANK, f"http://127.0.0.1:{port}/callbacks")
        customer, confirmation_id = await request(harness)
        await tap(harness, customer, confirmation_id, Reply.YES)
        sender = harness.services.callbacks
        assert await sender.run_once() == 1 and received == []
        [pending] = await callbacks(harness)
        assert (pending.state, pending.attempts, pending.last_error) == ("pending", 1, "HTTP 503")
        harness.clock.advance(10)
        assert await sender.run_once() == 1
        await asyncio.sleep(0)
        [(body, headers)] = received
        verify(headers["X-Loket-Signature"], body, [harness.secret.encode()], harness.clock.now())
        assert orjson.loads(body)["data"]["confirmation_id"] == confirmation_id
        [done] = await callbacks(harness)
        assert done.state == "delivered"
    finally:
        await harness.services.callbacks.close()
        await runner.cleanup()
