"""Template management: create, review (automatic or by hand), status webhooks, list and delete."""

from __future__ import annotations

from typing import Any

from sandbox_harness import CUSTOMER, WABA, Receiver, Sandbox, template_message

JsonObject = dict[str, Any]

TEMPLATE: JsonObject = {
    "name": "tagihan_jatuh_tempo",
    "language": "id",
    "category": "UTILITY",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Pengingat tagihan"},
        {
            "type": "BODY",
            "text": "Halo {{1}}, tagihan Anda {{2}} jatuh tempo.",
            "example": {"body_text": [["Siti", "Rp1"]]},
        },
        {"type": "FOOTER", "text": "Bank Uji"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Bayar sekarang"}]},
    ],
}


def _template_updates(receiver: Receiver) -> list[JsonObject]:
    return [r.value for r in receiver.accepted if r.change["field"] == "message_template_status_update"]


async def test_create_then_auto_approve_emits_webhook(sandbox: Sandbox, receiver: Receiver) -> None:
    status, answer = await sandbox.call("POST", f"/v23.0/{WABA}/message_templates", TEMPLATE)
    assert status == 200
    assert answer["status"] == "PENDING" and answer["category"] == "UTILITY" and answer["id"]
    status, error = await sandbox.send({"to": CUSTOMER, **template_message()})
    assert error["error"]["code"] == 132001

    await sandbox.advance(sandbox.state.settings.template_approve_delay_seconds)
    await receiver.wait_for(lambda got: bool(_template_updates(receiver)))
    update = _template_updates(receiver)[0]
    assert update == {
        "event": "APPROVED",
        "message_template_id": int(answer["id"]),
        "message_template_name": "tagihan_jatuh_tempo",
        "message_template_language": "id",
        "reason": "NONE",
        "message_template_category": "UTILITY",
    }
    envelope = next(r.body for r in receiver.accepted if r.change["field"] == "message_template_status_update")
    assert envelope["object"] == "whatsapp_business_account"
    assert envelope["entry"][0]["id"] == WABA
    status, _ = await sandbox.send({"to": CUSTOMER, **template_message()})
    assert status == 200


async def test_manual_review_from_the_page(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.state.settings.template_auto_approve = False
    _, first = await sandbox.call("POST", f"/v23.0/{WABA}/message_templates", TEMPLATE)
    _, second = await sandbox.call("POST", f"/v23.0/{WABA}/message_templates", {**TEMPLATE, "language": "en"})
    await sandbox.advance(3600)
    _, listed = await sandbox.call("GET", "/_sandbox/templates", token=None)
    assert {t["status"] for t in listed["templates"]} == {"PENDING"}

    status, _ = await sandbox.call("POST", f"/_sandbox/templates/{first['id']}/approve", token=None)
    assert status == 200
    status, _ = await sandbox.call(
        "POST", f"/_sandbox/templates/{second['id']}/reject", {"reason": "INCORRECT_CATEGORY"}, token=None
    )
    assert status == 200
    await receiver.wait_for(lambda got: len(_template_updates(receiver)) == 2)
    events = {(u["message_template_language"], u["event"], u["reason"]) for u in _template_updates(receiver)}
    assert events == {("id", "APPROVED", "NONE"), ("en", "REJECTED", "INCORRECT_CATEGORY")}
    rejected = next(u for u in _template_updates(receiver) if u["event"] == "REJECTED")
    assert rejected["rejection_info"]["reason"] == "INCORRECT_CATEGORY"
    status, _ = await sandbox.call("POST", f"/_sandbox/templates/{first['id']}/explode", token=None)
    assert status == 404


async def test_list_and_delete(sandbox: Sandbox) -> None:
    sandbox.state.settings.template_auto_approve = False
    await sandbox.call("POST", f"/v23.0/{WABA}/message_templates", TEMPLATE)
    _, english = await sandbox.call("POST", f"/v23.0/{WABA}/message_templates", {**TEMPLATE, "language": "en"})
    await sandbox.call("POST", f"/v23.0/{WABA}/message_templates", {**TEMPLATE, "name": "lain"})

    status, listed = await sandbox.call("GET", f"/v23.0/{WABA}/message_templates?name=tagihan_jatuh_tempo")
    assert status == 200
    assert sorted(t["language"] for t in listed["data"]) == ["en", "id"]
    assert "paging" in listed
    assert listed["data"][0]["components"] == TEMPLATE["components"]

    status, _ = await sandbox.call(
        "DELETE", f"/v23.0/{WABA}/message_templates?name=tagihan_jatuh_tempo&hsm_id={english['id']}"
    )
    assert status == 200
    _, listed = await sandbox.call("GET", f"/v23.0/{WABA}/message_templates")
    assert sorted((t["name"], t["language"]) for t in listed["data"]) == [("lain", "id"), ("tagihan_jatuh_tempo", "id")]
    status, _ = await sandbox.call("DELETE", f"/v23.0/{WABA}/message_templates?name=lain")
    assert status == 200
    status, answer = await sandbox.call("DELETE", f"/v23.0/{WABA}/message_templates?name=lain")
    assert (status, answer["error"]["code"]) == (400, 100)


async def test_create_errors(sandbox: Sandbox) -> None:
    path = f"/v23.0/{WABA}/message_templates"
    cases: list[tuple[JsonObject, int]] = [
        ({**TEMPLATE, "name": "Bad Name"}, 100),
        ({**TEMPLATE, "category": "SPAM"}, 100),
        ({k: v for k, v in TEMPLATE.items() if k != "language"}, 131008),
        ({**TEMPLATE, "components": [{"type": "WIDGET"}]}, 100),
    ]
    for body, code in cases:
        status, answer = await sandbox.call("POST", path, body)
        assert (status, answer["error"]["code"]) == (400, code), body
    await sandbox.call("POST", path, TEMPLATE)
    status, answer = await sandbox.call("POST", path, TEMPLATE)
    assert answer["error"]["error_subcode"] == 2388024
    status, answer = await sandbox.call("POST", path, TEMPLATE, token="wrong")
    assert (status, answer["error"]["code"]) == (401, 190)
    status, answer = await sandbox.call("POST", "/v23.0/999/message_templates", TEMPLATE)
    assert answer["error"]["error_subcode"] == 33


async def test_template_node_lookup(sandbox: Sandbox) -> None:
    _, created = await sandbox.call("POST", f"/v23.0/{WABA}/message_templates", TEMPLATE)
    status, node = await sandbox.call("GET", f"/v23.0/{created['id']}")
    assert status == 200
    assert node["name"] == "tagihan_jatuh_tempo" and node["status"] == "PENDING"
