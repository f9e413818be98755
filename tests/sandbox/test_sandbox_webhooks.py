"""Signed status webhooks with pricing, redelivery with back-off, and fault mode."""

from __future__ import annotations

import time
from typing import Any

from sandbox_harness import (
    APP_SECRET,
    CUSTOMER,
    DISPLAY,
    PNID,
    WABA,
    Receiver,
    Sandbox,
    add_template,
    open_window,
    template_message,
)

from loket.channel.signature import sign

JsonObject = dict[str, Any]


def _has(receiver: Receiver, wamid: str, status: str) -> bool:
    return any(s["status"] == status for s in receiver.statuses(wamid))


async def test_status_webhooks_carry_pricing_and_tracker(sandbox: Sandbox, receiver: Receiver) -> None:
    await open_window(sandbox)
    status, answer = await sandbox.send_text(biz_opaque_callback_data="outbox:42")
    assert status == 200
    wamid = answer["messages"][0]["id"]
    await receiver.wait_for(lambda _: _has(receiver, wamid, "delivered"))
    sent, delivered = receiver.statuses(wamid)
    assert (sent["status"], delivered["status"]) == ("sent", "delivered")
    for item in (sent, delivered):
        assert item["recipient_id"] == CUSTOMER
        assert item["biz_opaque_callback_data"] == "outbox:42"
        assert item["timestamp"] == str(int(sandbox.clock.now().timestamp()))
        assert item["pricing"] == {
            "billable": False,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        }
        assert item["conversation"]["origin"] == {"type": "service"}
    assert sent["conversation"]["id"] == delivered["conversation"]["id"]
    assert "expiration_timestamp" in sent["conversation"]

    envelope = next(r for r in receiver.accepted if r.statuses and r.statuses[0]["id"] == wamid)
    assert envelope.body["object"] == "whatsapp_business_account"
    assert envelope.body["entry"][0]["id"] == WABA
    assert envelope.change["field"] == "messages"
    assert envelope.value["metadata"] == {"display_phone_number": DISPLAY, "phone_number_id": PNID}
    assert envelope.headers["X-Hub-Signature-256"] == sign(envelope.raw, APP_SECRET.encode())
    assert receiver.bad_signatures == 0

    assert not _has(receiver, wamid, "read")
    await sandbox.advance(sandbox.state.settings.auto_read_delay_seconds or 0)
    await receiver.wait_for(lambda _: _has(receiver, wamid, "read"))
    read = receiver.statuses(wamid)[-1]
    assert read["biz_opaque_callback_data"] == "outbox:42"
    assert "pricing" not in read

    _, chat = await sandbox.call("GET", f"/_sandbox/chats/{PNID}/{CUSTOMER}", token=None)
    outbound = chat["messages"][-1]
    assert outbound["status"] == "read"
    assert [s["status"] for s in outbound["statuses"]] == ["accepted", "sent", "delivered", "read"]


async def test_template_pricing_categories(sandbox: Sandbox, receiver: Receiver) -> None:
    add_template(sandbox, "promo", "Promo {{1}} {{2}}", category="MARKETING")
    add_template(sandbox, "tagihan_jatuh_tempo")
    sandbox.state.settings.pair_rate_burst = 10

    async def pricing_of(name: str) -> JsonObject:
        _, answer = await sandbox.send({"to": CUSTOMER, **template_message(name)})
        wamid = answer["messages"][0]["id"]
        await receiver.wait_for(lambda _: _has(receiver, wamid, "sent"))
        return receiver.statuses(wamid)[0]["pricing"]  # type: ignore[no-any-return]

    marketing = await pricing_of("promo")
    assert (marketing["category"], marketing["type"], marketing["billable"]) == ("marketing", "regular", True)
    utility_outside = await pricing_of("tagihan_jatuh_tempo")
    assert (utility_outside["category"], utility_outside["type"]) == ("utility", "regular")
    await open_window(sandbox)
    utility_inside = await pricing_of("tagihan_jatuh_tempo")
    assert (utility_inside["type"], utility_inside["billable"]) == ("free_customer_service", False)


async def test_read_when_simulator_shows_the_chat(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.state.settings.auto_read_delay_seconds = None
    await open_window(sandbox)
    _, answer = await sandbox.send_text()
    wamid = answer["messages"][0]["id"]
    await receiver.wait_for(lambda _: _has(receiver, wamid, "delivered"))
    await sandbox.advance(3600)
    assert not _has(receiver, wamid, "read")
    _status, body = await sandbox.call("POST", f"/_sandbox/chats/{PNID}/{CUSTOMER}/read", token=None)
    assert body == {"read": 1}
    await receiver.wait_for(lambda _: _has(receiver, wamid, "read"))


async def test_retry_with_backoff_until_200(sandbox: Sandbox, receiver: Receiver) -> None:
    receiver.responses = [500, 503]
    body = await sandbox.inbound({"type": "text", "text": "Saldo"})
    await receiver.wait_count(1)
    assert receiver.messages()[0]["id"] == body["id"]
    assert len(receiver.refused) == 2
    gaps = [b - a for a, b in zip(receiver.arrivals, receiver.arrivals[1:], strict=False)]
    assert gaps[0] >= 0.009 and gaps[1] >= 0.019  # base 0.01 s, doubling
    await sandbox.settle()
    _, log = await sandbox.call("GET", "/_sandbox/webhooks", token=None)
    delivery = next(d for d in log["deliveries"] if d["id"] == body["webhook_id"])
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["body"]["entry"][0]["changes"][0]["value"]["messages"][0]["id"] == body["id"]


async def test_gives_up_after_max_attempts_when_unreachable(sandbox: Sandbox) -> None:
    sandbox.state.settings.webhook_url = "http://127.0.0.1:9/unreachable"
    body = await sandbox.inbound({"type": "text", "text": "Halo"})
    await sandbox.settle()
    _, log = await sandbox.call("GET", "/_sandbox/webhooks?wait_idle=2", token=None)
    delivery = next(d for d in log["deliveries"] if d["id"] == body["webhook_id"])
    assert delivery["state"] == "failed"
    assert len(delivery["attempts"]) == sandbox.state.settings.webhook_retry.max_attempts
    assert all(a["status"] is None and a["error"] for a in delivery["attempts"])


async def test_fault_mode_duplicates(sandbox: Sandbox, receiver: Receiver) -> None:
    status, faults = await sandbox.call("POST", "/_sandbox/faults", {"duplicate_probability": 1.0}, token=None)
    assert status == 200 and faults["duplicate_probability"] == 1.0
    body = await sandbox.inbound({"type": "text", "text": "Halo"})
    await receiver.wait_count(2)
    assert [m["id"] for m in receiver.messages()] == [body["id"], body["id"]]
    assert receiver.accepted[0].raw == receiver.accepted[1].raw
    _, log = await sandbox.call("GET", "/_sandbox/webhooks?wait_idle=2&body=0", token=None)
    assert [d["duplicate_of"] for d in log["deliveries"]] == [None, body["webhook_id"]]


async def test_fault_mode_reorders_within_window(sandbox: Sandbox, receiver: Receiver) -> None:
    await sandbox.call("POST", "/_sandbox/faults", {"reorder_window_seconds": 0.1}, token=None)
    sent = [(await sandbox.inbound({"type": "text", "text": f"pesan {i}"}))["id"] for i in range(12)]
    await receiver.wait_count(12)
    arrived = [m["id"] for m in receiver.messages()]
    assert sorted(arrived) == sorted(sent)
    assert arrived != sent


async def test_fault_mode_delay(sandbox: Sandbox, receiver: Receiver) -> None:
    await sandbox.call("POST", "/_sandbox/faults", {"delay_seconds": 0.15}, token=None)
    started = time.monotonic()
    await sandbox.inbound({"type": "text", "text": "Halo"})
    await receiver.wait_count(1)
    assert receiver.arrivals[0] - started >= 0.14


async def test_fault_mode_graph_errors(sandbox: Sandbox) -> None:
    await open_window(sandbox)
    await sandbox.call("POST", "/_sandbox/faults", {"graph_5xx_probability": 1}, token=None)
    status, answer = await sandbox.send_text()
    assert (status, answer["error"]["code"]) == (500, 131000)
    await sandbox.call("POST", "/_sandbox/faults", {"graph_5xx_probability": 0, "graph_429_probability": 1}, token=None)
    status, answer = await sandbox.send_text()
    assert (status, answer["error"]["code"]) == (429, 4)
    await sandbox.call(
        "POST",
        "/_sandbox/faults",
        {"graph_429_probability": 0, "graph_timeout_probability": 1, "graph_timeout_seconds": 0.05},
        token=None,
    )
    started = time.monotonic()
    status, answer = await sandbox.send_text()
    assert status == 504 and time.monotonic() - started >= 0.05
    await sandbox.call("POST", "/_sandbox/faults", {"graph_timeout_probability": 0}, token=None)
    status, _ = await sandbox.send_text()
    assert status == 200
    assert len(sandbox.state.chats.sent) == 1
    status, answer = await sandbox.call("POST", "/_sandbox/faults", {"graph_5xx_probability": 2}, token=None)
    assert status == 400 and "probability" in answer["error"]
    status, answer = await sandbox.call("POST", "/_sandbox/faults", {"bogus": 1}, token=None)
    assert status == 400


async def test_no_receiver_configured_skips_delivery(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.state.settings.webhook_url = None
    body = await sandbox.inbound({"type": "text", "text": "Halo"})
    _, log = await sandbox.call("GET", "/_sandbox/webhooks", token=None)
    assert next(d for d in log["deliveries"] if d["id"] == body["webhook_id"])["state"] == "skipped"
    assert not receiver.accepted
