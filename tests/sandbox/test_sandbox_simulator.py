"""The phone side: every inbound kind becomes Meta's signed webhook, and the chat view shows both ways."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from typing import Any

import aiohttp
from sandbox_harness import (
    CUSTOMER,
    DISPLAY,
    PNID,
    Receiver,
    Sandbox,
    add_template,
    open_window,
    template_message,
)

JsonObject = dict[str, Any]

BUTTONS: JsonObject = {
    "type": "interactive",
    "interactive": {
        "type": "button",
        "body": {"text": "Lanjutkan transfer?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "transfer:yes", "title": "Ya"}},
                {"type": "reply", "reply": {"id": "transfer:no", "title": "Tidak"}},
            ]
        },
    },
}
LIST: JsonObject = {
    "type": "interactive",
    "interactive": {
        "type": "list",
        "body": {"text": "Ada yang bisa kami bantu?"},
        "action": {
            "button": "Menu",
            "sections": [
                {
                    "title": "Rekening",
                    "rows": [{"id": "menu:saldo", "title": "Cek saldo", "description": "Saldo terkini"}],
                },
                {"title": "Kartu", "rows": [{"id": "menu:blokir", "title": "Blokir kartu"}]},
            ],
        },
    },
}
FLOW: JsonObject = {
    "type": "interactive",
    "interactive": {
        "type": "flow",
        "body": {"text": "Ajukan pinjaman"},
        "action": {
            "name": "flow",
            "parameters": {"flow_message_version": "3", "flow_id": "77", "flow_cta": "Ajukan", "flow_token": "ft-1"},
        },
    },
}


async def _last_inbound(receiver: Receiver, wamid: str) -> tuple[JsonObject, JsonObject]:
    await receiver.wait_for(lambda _: any(m["id"] == wamid for m in receiver.messages()))
    envelope = next(r for r in receiver.accepted if r.messages and r.messages[0]["id"] == wamid)
    return envelope.value, envelope.messages[0]


async def _sent(sandbox: Sandbox, message: JsonObject) -> str:
    status, answer = await sandbox.send({"to": CUSTOMER, **message})
    assert status == 200, answer
    return str(answer["messages"][0]["id"])


async def test_phones_are_listed_with_tenant_and_customer(sandbox: Sandbox) -> None:
    status, body = await sandbox.call("GET", "/_sandbox/phones", token=None)
    assert status == 200
    siti = next(p for p in body["phones"] if p["wa_id"] == CUSTOMER)
    assert siti == {
        "wa_id": CUSTOMER,
        "profile_name": "Siti Rahayu",
        "language": "id",
        "phone_number_id": PNID,
        "display_phone_number": DISPLAY,
        "tenant_id": "bank-uji",
        "tenant_name": "Bank Uji",
        "customer_id": "cust-1",
    }
    assert body["fake_clock"] is True
    assert body["numbers"][0]["verified_name"] == "Bank Uji"


async def test_inbound_text(sandbox: Sandbox, receiver: Receiver) -> None:
    body = await sandbox.inbound({"type": "text", "text": "cek saldo dong"})
    value, message = await _last_inbound(receiver, body["id"])
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": DISPLAY, "phone_number_id": PNID}
    assert value["contacts"] == [{"profile": {"name": "Siti Rahayu"}, "wa_id": CUSTOMER}]
    assert message == {
        "from": CUSTOMER,
        "id": body["id"],
        "timestamp": str(int(sandbox.clock.now().timestamp())),
        "type": "text",
        "text": {"body": "cek saldo dong"},
    }
    assert receiver.bad_signatures == 0


async def test_button_taps_by_id_and_title(sandbox: Sandbox, receiver: Receiver) -> None:
    await open_window(sandbox)
    wamid = await _sent(sandbox, BUTTONS)
    for spec in ({"reply_id": "transfer:yes"}, {"title": "Tidak"}):
        body = await sandbox.inbound({"type": "button_reply", **spec})
        _, message = await _last_inbound(receiver, body["id"])
        assert message["type"] == "interactive"
        assert message["context"] == {"from": DISPLAY, "id": wamid}
        reply = message["interactive"]["button_reply"]
        assert message["interactive"]["type"] == "button_reply"
        assert reply in ({"id": "transfer:yes", "title": "Ya"}, {"id": "transfer:no", "title": "Tidak"})
    status, error = await sandbox.call(
        "POST", "/_sandbox/inbound", {"wa_id": CUSTOMER, "type": "button_reply", "reply_id": "nope"}, token=None
    )
    assert status == 400 and "error" in error


async def test_list_selection(sandbox: Sandbox, receiver: Receiver) -> None:
    await open_window(sandbox)
    wamid = await _sent(sandbox, LIST)
    body = await sandbox.inbound({"type": "list_reply", "row_id": "menu:saldo", "message_id": wamid})
    _, message = await _last_inbound(receiver, body["id"])
    assert message["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "menu:saldo", "title": "Cek saldo", "description": "Saldo terkini"},
    }
    assert message["context"]["id"] == wamid


async def test_template_quick_reply_tap(sandbox: Sandbox, receiver: Receiver) -> None:
    add_template(sandbox, "konfirmasi", "Setujui {{1}} {{2}}?", buttons=[{"type": "QUICK_REPLY", "text": "Setuju"}])
    quick = {
        "type": "button",
        "sub_type": "quick_reply",
        "index": "0",
        "parameters": [{"type": "payload", "payload": "ok:9"}],
    }
    wamid = await _sent(sandbox, template_message("konfirmasi", more_components=[quick]))
    body = await sandbox.inbound({"type": "template_button", "text": "Setuju"})
    _, message = await _last_inbound(receiver, body["id"])
    assert message["type"] == "button"
    assert message["button"] == {"payload": "ok:9", "text": "Setuju"}
    assert message["context"]["id"] == wamid


async def test_location_and_reaction(sandbox: Sandbox, receiver: Receiver) -> None:
    body = await sandbox.inbound({"type": "location", "latitude": -6.175, "longitude": 106.827, "name": "Monas"})
    _, message = await _last_inbound(receiver, body["id"])
    assert message["location"] == {"latitude": -6.175, "longitude": 106.827, "name": "Monas"}
    wamid = await _sent(sandbox, {"type": "text", "text": {"body": "Terima kasih"}})
    body = await sandbox.inbound({"type": "reaction", "message_id": wamid, "emoji": "🙏"})
    _, message = await _last_inbound(receiver, body["id"])
    assert message["reaction"] == {"message_id": wamid, "emoji": "🙏"}


async def _upload_inbound(sandbox: Sandbox, data: bytes, mime: str, filename: str, caption: str) -> JsonObject:
    form = aiohttp.FormData()
    form.add_field("wa_id", CUSTOMER)
    form.add_field("caption", caption)
    form.add_field("file", data, filename=filename, content_type=mime)
    async with sandbox.http.post(sandbox.base + "/_sandbox/inbound", data=form) as response:
        assert response.status == 200, await response.text()
        return await response.json()  # type: ignore[no-any-return]


async def test_photo_and_pdf_uploads(sandbox: Sandbox, receiver: Receiver) -> None:
    photo = b"\xff\xd8\xff\xe0" + b"\x01" * 100
    body = await _upload_inbound(sandbox, photo, "image/jpeg", "ktp.jpg", "Foto KTP")
    _, message = await _last_inbound(receiver, body["id"])
    image = message["image"]
    assert message["type"] == "image"
    assert image["mime_type"] == "image/jpeg" and image["caption"] == "Foto KTP"
    assert image["sha256"] == base64.b64encode(hashlib.sha256(photo).digest()).decode()
    status, info = await sandbox.call("GET", f"/v23.0/{image['id']}")
    assert status == 200
    async with sandbox.http.get(info["url"], headers={"Authorization": "Bearer test-token"}) as response:
        assert await response.read() == photo

    pdf = b"%PDF-1.4 bukti transfer"
    body = await _upload_inbound(sandbox, pdf, "application/pdf", "bukti.pdf", "")
    _, message = await _last_inbound(receiver, body["id"])
    assert message["type"] == "document"
    assert message["document"]["filename"] == "bukti.pdf"
    assert message["document"]["mime_type"] == "application/pdf"
    # Customers' media ids live 7 days.
    await sandbox.advance(7 * 86400 + 1)
    status, _ = await sandbox.call("GET", f"/v23.0/{message['document']['id']}")
    assert status == 400


async def test_flow_completion(sandbox: Sandbox, receiver: Receiver) -> None:
    await open_window(sandbox)
    wamid = await _sent(sandbox, FLOW)
    body = await sandbox.inbound({"type": "flow_completion", "response": {"amount": "5000000", "tenor": "12"}})
    _, message = await _last_inbound(receiver, body["id"])
    reply = message["interactive"]
    assert reply["type"] == "nfm_reply"
    assert reply["nfm_reply"]["name"] == "flow" and reply["nfm_reply"]["body"] == "Sent"
    assert json.loads(reply["nfm_reply"]["response_json"]) == {"amount": "5000000", "tenor": "12", "flow_token": "ft-1"}
    assert message["context"]["id"] == wamid


async def test_chat_view_has_both_directions_in_order(sandbox: Sandbox, receiver: Receiver) -> None:
    first = await open_window(sandbox)
    wamid = await _sent(sandbox, BUTTONS)
    tap = await sandbox.inbound({"type": "button_reply", "title": "Ya"})
    await sandbox.settle()
    status, chat = await sandbox.call("GET", f"/_sandbox/chats/{PNID}/{CUSTOMER}", token=None)
    assert status == 200
    assert chat["profile_name"] == "Siti Rahayu" and chat["window_open"] is True
    assert [(m["direction"], m["id"]) for m in chat["messages"]] == [("in", first), ("out", wamid), ("in", tap["id"])]
    outbound = chat["messages"][1]
    assert outbound["payload"]["interactive"]["type"] == "button"
    # The customer answering means they read it.
    assert outbound["status"] == "read"
    status, _ = await sandbox.call("GET", f"/_sandbox/chats/{PNID}/6200000000000", token=None)
    assert status == 404
    _, sent = await sandbox.call("GET", f"/_sandbox/sent?to={CUSTOMER}", token=None)
    assert sent["count"] == 1 and sent["messages"][0]["id"] == wamid


async def test_long_poll_events(sandbox: Sandbox) -> None:
    _, first = await sandbox.call("GET", "/_sandbox/events?after=0", token=None)
    last = first["last_seq"]
    waiter = asyncio.create_task(sandbox.call("GET", f"/_sandbox/events?after={last}&timeout=5", token=None))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await sandbox.inbound({"type": "text", "text": "Halo"})
    _, events = await asyncio.wait_for(waiter, 2)
    assert any(e["kind"] == "message" and e["data"]["message"]["direction"] == "in" for e in events["events"])


async def test_event_stream_marks_open_chat_read(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.state.settings.auto_read_delay_seconds = None
    await open_window(sandbox)
    async with sandbox.http.get(f"{sandbox.base}/_sandbox/events/stream?open={PNID}:{CUSTOMER}") as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert (await stream.content.readline()).startswith(b"retry:")
        wamid = await _sent(sandbox, {"type": "text", "text": {"body": "Saldo Anda Rp 1.000.000"}})
        await receiver.wait_for(lambda _: any(s["id"] == wamid and s["status"] == "read" for s in receiver.statuses()))
        line = b""
        while not line.startswith(b"event:"):
            line = await asyncio.wait_for(stream.content.readline(), 2)
    await asyncio.sleep(0.05)
    assert not sandbox.state.open_chats


async def test_reset_and_runtime_registration(sandbox: Sandbox) -> None:
    await open_window(sandbox)
    status, _ = await sandbox.call(
        "POST",
        "/_sandbox/numbers",
        {
            "phone_number_id": "5550001",
            "display_phone_number": "6281100000009",
            "waba_id": "5559",
            "access_token": "tok-2",
        },
        token=None,
    )
    assert status == 200
    status, _ = await sandbox.call(
        "POST",
        "/_sandbox/phones",
        {"wa_id": "6281299990000", "profile_name": "Dewi", "phone_number_id": "5550001", "tenant_id": "asuransi"},
        token=None,
    )
    assert status == 200
    status, answer = await sandbox.call("POST", "/_sandbox/phones", {"wa_id": "1", "bogus": 1}, token=None)
    assert status == 400
    body = await sandbox.inbound({"wa_id": "6281299990000", "type": "text", "text": "Klaim"})
    assert body["id"]
    status, _ = await sandbox.call("POST", "/_sandbox/reset", token=None)
    _, chat = await sandbox.call("GET", f"/_sandbox/chats/{PNID}/{CUSTOMER}", token=None)
    assert chat["messages"] == []
    status, answer = await sandbox.send_text()
    assert answer["error"]["code"] == 131047
