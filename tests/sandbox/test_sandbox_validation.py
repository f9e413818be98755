"""Every validation path of `POST /messages` answers with Meta's envelope, code and a detail naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_harness import CUSTOMER, Sandbox, open_window

JsonObject = dict[str, Any]


def _buttons(*titles: str) -> JsonObject:
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Pilih"},
            "action": {
                "buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": t}} for i, t in enumerate(titles)]
            },
        },
    }


def _list(rows: int = 2, sections: int = 1, **row: str) -> JsonObject:
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Menu"},
            "action": {
                "button": "Lihat menu",
                "sections": [
                    {
                        "title": f"Bagian {s}",
                        "rows": [{"id": f"r{s}-{r}", "title": f"Baris {r}", **row} for r in range(rows)],
                    }
                    for s in range(sections)
                ],
            },
        },
    }


CASES: list[tuple[str, JsonObject, int, str]] = [
    ("no product", {"messaging_product": None}, 100, "messaging_product"),
    ("wrong product", {"messaging_product": "sms"}, 100, "messaging_product"),
    ("no to", {"to": None}, 100, "The parameter to is required"),
    ("unknown type", {"type": "hologram"}, 100, "Param type must be one of"),
    ("no text object", {"type": "text", "text": None}, 100, "The parameter text is required"),
    ("no body", {"type": "text", "text": {}}, 131008, "text['body']"),
    ("empty body", {"type": "text", "text": {"body": ""}}, 131009, "text['body']"),
    ("long body", {"type": "text", "text": {"body": "x" * 4097}}, 131009, "Max length: 4096"),
    ("button title 21", _buttons("x" * 21), 131009, "interactive['action']['buttons'][0]['reply']['title']"),
    ("four buttons", _buttons("a", "b", "c", "d"), 131009, "between 1 and 3 buttons"),
    ("no buttons", _buttons(), 131009, "between 1 and 3 buttons"),
    ("duplicate titles", _buttons("Ya", "Ya"), 131009, "duplicates another button title"),
    ("eleven rows", _list(rows=6, sections=2), 131009, "Max rows: 10"),
    ("row title 25", _list(rows=1, title="y" * 25), 131009, "['rows'][0]['title']"),
    ("row description 73", _list(rows=1, description="d" * 73), 131009, "['description']"),
    ("image without id or link", {"type": "image", "image": {}}, 131008, "image['id'] or image['link']"),
    ("image with both", {"type": "image", "image": {"id": "1", "link": "https://x.example/a.png"}}, 100, "only one"),
    ("image bad link", {"type": "image", "image": {"link": "ftp://x"}}, 131009, "image['link']"),
    ("caption on audio", {"type": "audio", "audio": {"id": "1", "caption": "hi"}}, 100, "audio['caption']"),
    ("caption too long", {"type": "image", "image": {"id": "1", "caption": "c" * 1025}}, 131009, "Max length: 1024"),
    ("latitude 91", {"type": "location", "location": {"latitude": 91, "longitude": 0}}, 131009, "latitude"),
    ("no longitude", {"type": "location", "location": {"latitude": 1}}, 131008, "location['longitude']"),
    ("contacts empty", {"type": "contacts", "contacts": []}, 131009, "contacts"),
    ("contact without name", {"type": "contacts", "contacts": [{"phones": []}]}, 131008, "contacts[0]['name']"),
    ("reaction without id", {"type": "reaction", "reaction": {"emoji": "👍"}}, 131008, "reaction['message_id']"),
    ("long tracker", {"biz_opaque_callback_data": "t" * 513}, 131009, "biz_opaque_callback_data"),
    (
        "cta text 21",
        {
            "type": "interactive",
            "interactive": {
                "type": "cta_url",
                "body": {"text": "Buka"},
                "action": {"name": "cta_url", "parameters": {"display_text": "z" * 21, "url": "https://bank.example"}},
            },
        },
        131009,
        "display_text",
    ),
    (
        "cta bad url",
        {
            "type": "interactive",
            "interactive": {
                "type": "cta_url",
                "body": {"text": "Buka"},
                "action": {"name": "cta_url", "parameters": {"display_text": "Buka", "url": "javascript:alert(1)"}},
            },
        },
        131009,
        "['url']",
    ),
    (
        "flow without id",
        {
            "type": "interactive",
            "interactive": {
                "type": "flow",
                "body": {"text": "Isi formulir"},
                "action": {"name": "flow", "parameters": {"flow_message_version": "3", "flow_cta": "Isi"}},
            },
        },
        131008,
        "flow_id",
    ),
    (
        "interactive no body",
        {"type": "interactive", "interactive": {"type": "button", "action": {}}},
        131008,
        "interactive['body']",
    ),
    (
        "interactive header 61",
        {
            **_buttons("Ya"),
            "interactive": {**_buttons("Ya")["interactive"], "header": {"type": "text", "text": "h" * 61}},
        },
        131009,
        "interactive['header']['text']",
    ),
    ("template without language", {"type": "template", "template": {"name": "x"}}, 131008, "template['language']"),
    (
        "template bad parameter",
        {
            "type": "template",
            "template": {
                "name": "x",
                "language": {"code": "id"},
                "components": [{"type": "body", "parameters": [{"type": "text"}]}],
            },
        },
        131008,
        "template['components'][0]['parameters'][0]['text']",
    ),
]


@pytest.mark.parametrize(("name", "override", "code", "detail"), CASES, ids=[c[0] for c in CASES])
async def test_validation_error(sandbox: Sandbox, name: str, override: JsonObject, code: int, detail: str) -> None:
    await open_window(sandbox)
    body: JsonObject = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "hi"}}
    body.update(override)
    body = {k: v for k, v in body.items() if v is not None}
    status, answer = await sandbox.call("POST", "/v23.0/111000111000111/messages", body)
    assert status == 400
    error = answer["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["message"].startswith(f"(#{code}) ")
    assert error["fbtrace_id"]
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert detail in error["error_data"]["details"]
    assert not sandbox.state.chats.sent


async def test_malformed_json(sandbox: Sandbox) -> None:
    async with sandbox.http.post(
        sandbox.base + "/v23.0/111000111000111/messages",
        data=b"{not json",
        headers={"Authorization": "Bearer test-token", "Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == 100


async def test_each_valid_type_is_accepted(sandbox: Sandbox) -> None:
    await open_window(sandbox)
    sandbox.state.settings.pair_rate_burst = 100
    valid: list[JsonObject] = [
        {"type": "text", "text": {"body": "*Halo* _Siti_", "preview_url": False}},
        {"type": "image", "image": {"link": "https://bank.example/a.png", "caption": "Foto"}},
        {"type": "document", "document": {"link": "https://bank.example/e.pdf", "filename": "e.pdf"}},
        {"type": "location", "location": {"latitude": -6.2, "longitude": 106.8, "name": "Cabang"}},
        {"type": "contacts", "contacts": [{"name": {"formatted_name": "Halo Bank"}, "phones": [{"phone": "1500"}]}]},
        {"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "👍"}},
        _buttons("Ya", "Tidak"),
        _list(rows=5, sections=2),
        {
            "type": "interactive",
            "interactive": {
                "type": "cta_url",
                "body": {"text": "Buka"},
                "action": {"name": "cta_url", "parameters": {"display_text": "Buka", "url": "https://bank.example"}},
            },
        },
        {
            "type": "interactive",
            "interactive": {
                "type": "flow",
                "body": {"text": "Isi formulir"},
                "action": {
                    "name": "flow",
                    "parameters": {
                        "flow_message_version": "3",
                        "flow_id": "123",
                        "flow_cta": "Isi",
                        "flow_token": "tok",
                        "flow_action": "navigate",
                        "flow_action_payload": {"screen": "START"},
                    },
                },
            },
        },
    ]
    for message in valid:
        status, answer = await sandbox.send({"to": "+62 812-3450-0001", **message})
        assert status == 200, (message, answer)
        assert answer["contacts"] == [{"input": "+62 812-3450-0001", "wa_id": CUSTOMER}]
        assert answer["messages"][0]["id"].startswith("wamid.")
        assert answer["messages"][0]["message_status"] == "accepted"
    assert len(sandbox.state.chats.sent) == len(valid)


async def test_mark_as_read_and_typing(sandbox: Sandbox) -> None:
    inbound_id = await open_window(sandbox)
    for method in ("POST", "PUT"):
        status, answer = await sandbox.call(
            method,
            "/v23.0/111000111000111/messages",
            {
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": inbound_id,
                "typing_indicator": {"type": "text"},
            },
        )
        assert (status, answer) == (200, {"success": True})
    status, answer = await sandbox.call(
        "POST",
        "/v23.0/111000111000111/messages",
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.unknown"},
    )
    assert status == 400
    assert answer["error"]["code"] == 100
    kinds = [e["kind"] for e in sandbox.state.events.since(0)]
    assert "read" in kinds and "typing" in kinds
