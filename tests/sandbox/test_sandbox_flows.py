"""Flows: the sandbox plays the WhatsApp client against a business Flow endpoint, encrypted and signed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from sandbox_harness import APP_SECRET, CUSTOMER, PNID, TOKEN, Receiver, Sandbox, open_window

from loket.channel.flows_crypto import decrypt_request, encrypt_response, generate_key_pair, public_key_to_pem
from loket.channel.signature import verify_signature

JsonObject = dict[str, Any]

FLOW_JSON: JsonObject = {
    "version": "7.0",
    "data_api_version": "3.0",
    "routing_model": {"LOAN": ["CONFIRM"]},
    "screens": [
        {
            "id": "LOAN",
            "title": "Pinjaman",
            "data": {"max": {"type": "string", "__example__": "Rp 1"}},
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextHeading", "text": "Maksimal ${data.max}"},
                    {
                        "type": "Form",
                        "name": "f",
                        "children": [{"type": "TextInput", "name": "amount", "label": "Jumlah"}],
                    },
                    {
                        "type": "Footer",
                        "label": "Lanjut",
                        "on-click-action": {"name": "data_exchange", "payload": {"amount": "${form.amount}"}},
                    },
                ],
            },
        },
        {
            "id": "CONFIRM",
            "title": "Konfirmasi",
            "terminal": True,
            "data": {},
            "layout": {"type": "SingleColumnLayout", "children": []},
        },
    ],
}


@dataclass
class FlowEndpoint:
    private_key: rsa.RSAPrivateKey
    url: str = ""
    requests: list[JsonObject] = field(default_factory=list)
    replies: list[JsonObject] = field(default_factory=list)
    bad_signatures: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not verify_signature(raw, request.headers.get("X-Hub-Signature-256"), APP_SECRET.encode()):
            self.bad_signatures += 1
            return web.Response(status=432)
        try:
            decrypted = decrypt_request(orjson.loads(raw), self.private_key)
        except Exception:
            return web.Response(status=421)
        self.requests.append(decrypted.payload)
        if decrypted.payload.get("action") == "ping":
            reply: JsonObject = {"data": {"status": "active"}}
        else:
            reply = self.replies.pop(0)
        return web.Response(text=encrypt_response(reply, decrypted.aes_key, decrypted.iv))


@pytest.fixture
async def endpoint() -> AsyncIterator[FlowEndpoint]:
    private_key, _ = generate_key_pair()
    endpoint = FlowEndpoint(private_key)
    app = web.Application()
    app.router.add_post("/flows", endpoint.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    endpoint.url = f"http://127.0.0.1:{runner.addresses[0][1]}/flows"
    yield endpoint
    await runner.cleanup()


async def _upload_key(sandbox: Sandbox, pem: str) -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field("business_public_key", pem)
    async with sandbox.http.post(
        f"{sandbox.base}/v23.0/{PNID}/whatsapp_business_encryption",
        data=form,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        return response.status, await response.json()


async def _flow_message(sandbox: Sandbox, flow_action: str, flow_id: str = "77", **extra: Any) -> str:
    await open_window(sandbox)
    parameters = {
        "flow_message_version": "3",
        "flow_id": flow_id,
        "flow_cta": "Ajukan",
        "flow_token": "ft-loan",
        "flow_action": flow_action,
        **extra,
    }
    status, answer = await sandbox.send(
        {
            "to": CUSTOMER,
            "type": "interactive",
            "interactive": {
                "type": "flow",
                "body": {"text": "Ajukan pinjaman"},
                "action": {"name": "flow", "parameters": parameters},
            },
        }
    )
    assert status == 200, answer
    return str(answer["messages"][0]["id"])


async def _nfm(receiver: Receiver, wamid: str) -> JsonObject:
    await receiver.wait_for(lambda _: any(m["id"] == wamid for m in receiver.messages()))
    message = next(m for m in receiver.messages() if m["id"] == wamid)
    assert message["interactive"]["type"] == "nfm_reply"
    return json.loads(message["interactive"]["nfm_reply"]["response_json"])  # type: ignore[no-any-return]


async def test_business_key_upload(sandbox: Sandbox, endpoint: FlowEndpoint) -> None:
    pem = public_key_to_pem(endpoint.private_key)
    assert await _upload_key(sandbox, pem) == (200, {"success": True})
    status, body = await sandbox.call("GET", f"/v23.0/{PNID}/whatsapp_business_encryption")
    assert body["data"][0] == {"business_public_key": pem, "business_public_key_signature_status": "VALID"}
    status, body = await _upload_key(sandbox, "not a key")
    assert (status, body["error"]["code"]) == (400, 100)


async def test_endpoint_flow_init_exchange_success(
    sandbox: Sandbox, endpoint: FlowEndpoint, receiver: Receiver
) -> None:
    await _upload_key(sandbox, public_key_to_pem(endpoint.private_key))
    sandbox.state.numbers[PNID].flow_endpoint_url = endpoint.url
    sandbox.state.settings.flow_json["77"] = FLOW_JSON
    wamid = await _flow_message(sandbox, "data_exchange")

    endpoint.replies.append({"version": "3.0", "screen": "LOAN", "data": {"max": "Rp 10.000.000"}})
    status, step = await sandbox.call("POST", "/_sandbox/flows/open", {"message_id": wamid}, token=None)
    assert status == 200, step
    assert endpoint.requests[-1] == {"version": "3.0", "action": "INIT", "flow_token": "ft-loan"}
    assert step["screen"] == "LOAN" and step["title"] == "Pinjaman"
    assert step["data"] == {"max": "Rp 10.000.000"}
    assert step["layout"]["children"][0]["type"] == "TextHeading"

    endpoint.replies.append({"version": "3.0", "screen": "LOAN", "data": {"error_message": "Jumlah terlalu besar"}})
    status, step = await sandbox.call(
        "POST",
        "/_sandbox/flows/submit",
        {"session": step["session"], "action": "data_exchange", "screen": "LOAN", "payload": {"amount": "99999999999"}},
        token=None,
    )
    assert step["error"] == "Jumlah terlalu besar" and step["screen"] == "LOAN"
    assert endpoint.requests[-1]["action"] == "data_exchange"
    assert endpoint.requests[-1]["data"] == {"amount": "99999999999"}
    assert endpoint.requests[-1]["screen"] == "LOAN"

    endpoint.replies.append(
        {
            "version": "3.0",
            "screen": "SUCCESS",
            "data": {"extension_message_response": {"params": {"flow_token": "ft-loan", "amount": "5000000"}}},
        }
    )
    status, done = await sandbox.call(
        "POST",
        "/_sandbox/flows/submit",
        {"session": step["session"], "action": "data_exchange", "screen": "LOAN", "payload": {"amount": "5000000"}},
        token=None,
    )
    assert done["done"] is True
    assert await _nfm(receiver, done["message_id"]) == {"flow_token": "ft-loan", "amount": "5000000"}
    assert endpoint.bad_signatures == 0
    status, _ = await sandbox.call("POST", "/_sandbox/flows/submit", {"session": step["session"]}, token=None)
    assert status == 404


async def test_navigate_flow_without_endpoint_completes(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.state.settings.flow_json["77"] = FLOW_JSON
    wamid = await _flow_message(sandbox, "navigate", flow_action_payload={"screen": "LOAN", "data": {"max": "Rp 5"}})
    _, step = await sandbox.call("POST", "/_sandbox/flows/open", {"message_id": wamid}, token=None)
    assert step["screen"] == "LOAN" and step["data"] == {"max": "Rp 5"} and step["generic_action"] == "complete"
    _, step = await sandbox.call(
        "POST",
        "/_sandbox/flows/submit",
        {"session": step["session"], "action": "navigate", "next": "CONFIRM", "payload": {"a": 1}},
        token=None,
    )
    assert step["screen"] == "CONFIRM" and step["can_go_back"] is True
    _, back = await sandbox.call(
        "POST", "/_sandbox/flows/submit", {"session": step["session"], "action": "back"}, token=None
    )
    assert back["screen"] == "LOAN"
    _, done = await sandbox.call(
        "POST",
        "/_sandbox/flows/submit",
        {"session": step["session"], "action": "complete", "payload": {"amount": "7"}},
        token=None,
    )
    assert await _nfm(receiver, done["message_id"]) == {"amount": "7", "flow_token": "ft-loan"}


async def test_unknown_flow_gets_a_generic_form(sandbox: Sandbox, receiver: Receiver) -> None:
    wamid = await _flow_message(sandbox, "navigate", flow_id="999")
    _, step = await sandbox.call("POST", "/_sandbox/flows/open", {"message_id": wamid}, token=None)
    assert step["layout"] is None
    _, done = await sandbox.call(
        "POST",
        "/_sandbox/flows/submit",
        {"session": step["session"], "action": "complete", "payload": {"nama": "Siti"}},
        token=None,
    )
    assert (await _nfm(receiver, done["message_id"]))["nama"] == "Siti"


async def test_endpoint_problems_are_reported(sandbox: Sandbox, endpoint: FlowEndpoint) -> None:
    wamid = await _flow_message(sandbox, "data_exchange")
    status, body = await sandbox.call("POST", "/_sandbox/flows/open", {"message_id": wamid}, token=None)
    assert status == 400 and "endpoint" in body["error"]
    sandbox.state.numbers[PNID].flow_endpoint_url = endpoint.url
    status, body = await sandbox.call("POST", "/_sandbox/flows/open", {"message_id": wamid}, token=None)
    assert status == 400 and "public key" in body["error"]
    other_key, _ = generate_key_pair()
    await _upload_key(sandbox, public_key_to_pem(other_key))
    status, body = await sandbox.call("POST", "/_sandbox/flows/open", {"message_id": wamid}, token=None)
    assert status == 400 and "421" in body["error"]
    sandbox.state.settings.app_secret = "another-secret"
    await _upload_key(sandbox, public_key_to_pem(endpoint.private_key))
    status, body = await sandbox.call("POST", "/_sandbox/flows/open", {"message_id": wamid}, token=None)
    assert status == 400 and "432" in body["error"]
    status, body = await sandbox.call("POST", "/_sandbox/flows/open", {"message_id": "wamid.nothing"}, token=None)
    assert status == 400


async def test_ping(sandbox: Sandbox, endpoint: FlowEndpoint) -> None:
    await _upload_key(sandbox, public_key_to_pem(endpoint.private_key))
    sandbox.state.numbers[PNID].flow_endpoint_url = endpoint.url
    status, body = await sandbox.call("POST", "/_sandbox/flows/ping", {}, token=None)
    assert status == 200 and body["active"] is True
    assert endpoint.requests[-1] == {"version": "3.0", "action": "ping"}


async def test_template_flow_button(sandbox: Sandbox, receiver: Receiver) -> None:
    from sandbox_harness import add_template, template_message

    add_template(
        sandbox,
        "ajukan",
        "Halo {{1}} {{2}}",
        buttons=[
            {"type": "FLOW", "text": "Ajukan", "flow_id": "77", "navigate_screen": "LOAN", "flow_action": "navigate"}
        ],
    )
    sandbox.state.settings.flow_json["77"] = FLOW_JSON
    flow_button = {
        "type": "button",
        "sub_type": "flow",
        "index": "0",
        "parameters": [{"type": "action", "action": {"flow_token": "ft-tpl", "flow_action_data": {"max": "Rp 3"}}}],
    }
    status, answer = await sandbox.send({"to": CUSTOMER, **template_message("ajukan", more_components=[flow_button])})
    assert status == 200, answer
    _, step = await sandbox.call(
        "POST", "/_sandbox/flows/open", {"message_id": answer["messages"][0]["id"]}, token=None
    )
    assert step["screen"] == "LOAN" and step["data"] == {"max": "Rp 3"}
    _, done = await sandbox.call(
        "POST", "/_sandbox/flows/submit", {"session": step["session"], "payload": {"x": "1"}}, token=None
    )
    assert (await _nfm(receiver, done["message_id"]))["flow_token"] == "ft-tpl"
