"""Messages a customer sends from the simulator, shaped as Meta's inbound webhook `messages[]` objects
(reference section 1.4). Taps on buttons, list rows and template quick replies quote the business
message they answer, in `context`, as WhatsApp does."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from loket.sandbox.chats import ChatMessage, epoch
from loket.sandbox.ids import wamid
from loket.sandbox.settings import PhoneNumber
from loket.sandbox.state import SandboxState

JsonObject = dict[str, Any]

KINDS = (
    "text",
    "button_reply",
    "list_reply",
    "template_button",
    "location",
    "reaction",
    "image",
    "document",
    "flow_completion",
)


class InboundError(ValueError):
    """The simulator request cannot be turned into a customer message."""


def _buttons(message: ChatMessage) -> list[JsonObject]:
    interactive = message.payload.get("interactive") or {}
    if interactive.get("type") != "button":
        return []
    return [b.get("reply", {}) for b in interactive.get("action", {}).get("buttons", [])]


def _rows(message: ChatMessage) -> list[JsonObject]:
    interactive = message.payload.get("interactive") or {}
    if interactive.get("type") != "list":
        return []
    return [row for s in interactive.get("action", {}).get("sections", []) for row in s.get("rows", [])]


def _quick_replies(message: ChatMessage) -> list[JsonObject]:
    buttons = (message.rendered or {}).get("buttons", [])
    return [b for b in buttons if b.get("type") == "QUICK_REPLY"]


def flow_parameters(message: ChatMessage) -> JsonObject | None:
    """The `action.parameters` of a Flow message, also for a template's Flow button."""
    interactive = message.payload.get("interactive") or {}
    if interactive.get("type") == "flow":
        parameters = interactive.get("action", {}).get("parameters")
        return parameters if isinstance(parameters, dict) else None
    for button in (message.rendered or {}).get("buttons", []):
        if button.get("type") == "FLOW":
            payload: JsonObject = {"screen": button.get("navigate_screen")}
            if button.get("flow_action_data"):
                payload["data"] = button["flow_action_data"]
            return {
                "flow_id": button.get("flow_id"),
                "flow_name": button.get("flow_name"),
                "flow_token": button.get("flow_token"),
                "flow_action": str(button.get("flow_action") or "navigate").lower(),
                "flow_action_payload": payload,
                "flow_cta": button.get("text"),
            }
    return None


def _target(
    state: SandboxState, number: PhoneNumber, wa_id: str, spec: JsonObject, has: Callable[[ChatMessage], bool]
) -> ChatMessage:
    message_id = spec.get("message_id")
    if message_id:
        message = state.chats.message(str(message_id))
        if message is None or message.wa_id != wa_id or message.phone_number_id != number.phone_number_id:
            raise InboundError("message_id does not name a message in this chat")
        if not has(message):
            raise InboundError("that message has nothing to tap here")
        return message
    chat = state.chats.find_chat(number.phone_number_id, wa_id)
    for message in reversed(chat.messages if chat else []):
        if message.direction == "out" and has(message):
            return message
    raise InboundError("no business message in this chat has what was tapped")


def _match(items: list[JsonObject], spec: JsonObject, id_key: str, keys: tuple[str, ...]) -> JsonObject | None:
    wanted_id = spec.get(id_key)
    wanted_title = spec.get("title")
    for item in items:
        if wanted_id is not None and item.get(keys[0]) == wanted_id:
            return item
        if wanted_title is not None and item.get(keys[1]) == wanted_title:
            return item
    return None


def build(state: SandboxState, number: PhoneNumber, wa_id: str, spec: JsonObject) -> JsonObject:
    """The webhook message object for a simulator action; media must already be stored (`media` in spec)."""
    kind = spec.get("type")
    if kind not in KINDS:
        raise InboundError(f"type must be one of {', '.join(KINDS)}")
    message: JsonObject = {"from": wa_id, "id": wamid(wa_id), "timestamp": epoch(state.clock.now())}
    context: ChatMessage | None = None

    if kind == "text":
        body = spec.get("text")
        if not isinstance(body, str) or not body:
            raise InboundError("text is required")
        message.update(type="text", text={"body": body})
    elif kind == "button_reply":
        context = _target(
            state, number, wa_id, spec, lambda m: _match(_buttons(m), spec, "reply_id", ("id", "title")) is not None
        )
        reply = _match(_buttons(context), spec, "reply_id", ("id", "title"))
        assert reply is not None
        message.update(
            type="interactive",
            interactive={"type": "button_reply", "button_reply": {"id": reply["id"], "title": reply["title"]}},
        )
    elif kind == "list_reply":
        context = _target(
            state, number, wa_id, spec, lambda m: _match(_rows(m), spec, "row_id", ("id", "title")) is not None
        )
        row = _match(_rows(context), spec, "row_id", ("id", "title"))
        assert row is not None
        picked = {"id": row["id"], "title": row["title"]}
        if row.get("description"):
            picked["description"] = row["description"]
        message.update(type="interactive", interactive={"type": "list_reply", "list_reply": picked})
    elif kind == "template_button":
        context = _target(state, number, wa_id, spec, lambda m: _template_button(m, spec) is not None)
        button = _template_button(context, spec)
        assert button is not None
        message.update(type="button", button={"payload": button["payload"], "text": button["text"]})
    elif kind == "location":
        try:
            location: JsonObject = {"latitude": float(spec["latitude"]), "longitude": float(spec["longitude"])}
        except (KeyError, TypeError, ValueError):
            raise InboundError("latitude and longitude are required numbers") from None
        for key in ("name", "address", "url"):
            if spec.get(key):
                location[key] = str(spec[key])
        message.update(type="location", location=location)
    elif kind == "reaction":
        target = state.chats.message(str(spec.get("message_id", "")))
        if target is None or target.wa_id != wa_id:
            raise InboundError("message_id does not name a message in this chat")
        message.update(type="reaction", reaction={"message_id": target.id, "emoji": str(spec.get("emoji", ""))})
    elif kind in ("image", "document"):
        media = spec.get("media")
        if not isinstance(media, dict):
            raise InboundError("an uploaded file is required")
        message.update(type=kind, **{kind: media})
    else:
        context = _target(state, number, wa_id, spec, lambda m: flow_parameters(m) is not None)
        message.update(type="interactive", interactive=nfm_reply(context, spec.get("response") or {}))

    if context is not None:
        message["context"] = {"from": number.display_phone_number, "id": context.id}
    return message


def _template_button(message: ChatMessage, spec: JsonObject) -> JsonObject | None:
    for button in _quick_replies(message):
        if spec.get("index") is not None and str(button.get("index")) == str(spec["index"]):
            return button
        if spec.get("payload") is not None and button.get("payload") == spec["payload"]:
            return button
        if spec.get("text") is not None and button.get("text") == spec["text"]:
            return button
    return None


def nfm_reply(flow_message: ChatMessage, response: JsonObject) -> JsonObject:
    params = flow_parameters(flow_message) or {}
    body = dict(response)
    token = params.get("flow_token")
    if token and "flow_token" not in body:
        body["flow_token"] = token
    return {
        "type": "nfm_reply",
        "nfm_reply": {"name": "flow", "body": "Sent", "response_json": json.dumps(body, separators=(",", ":"))},
    }
