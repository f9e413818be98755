"""The Cloud API's business rules: the customer service window, template approval and parameters, and
per-message pricing (PMP). Pure functions over the stores; the messages route applies them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from loket.channel.limits import CUSTOMER_SERVICE_WINDOW_SECONDS
from loket.sandbox.chats import Chat, Pricing
from loket.sandbox.errors import (
    TEMPLATE_MISSING,
    TEMPLATE_PARAMETER_COUNT,
    TEMPLATE_PARAMETER_FORMAT,
    GraphError,
)
from loket.sandbox.ids import node_id
from loket.sandbox.template_store import Template, TemplateStore, placeholders

JsonObject = dict[str, Any]

_WINDOW = timedelta(seconds=CUSTOMER_SERVICE_WINDOW_SECONDS)
_AUTH_BODY = "*{{1}}* is your verification code."
_SECURITY_LINE = " For your security, do not share this code."
_PAUSED = {"PAUSED": 132015, "DISABLED": 132016}


def window_open(chat: Chat | None, now: datetime) -> bool:
    return chat is not None and chat.last_inbound_at is not None and now - chat.last_inbound_at < _WINDOW


def window_closes_at(chat: Chat | None) -> datetime | None:
    if chat is None or chat.last_inbound_at is None:
        return None
    return chat.last_inbound_at + _WINDOW


def body_text(template: Template) -> str:
    body = template.component("BODY") or {}
    text = body.get("text")
    if isinstance(text, str):
        return text
    suffix = _SECURITY_LINE if body.get("add_security_recommendation") else ""
    return _AUTH_BODY + suffix if template.category == "AUTHENTICATION" else ""


def approved_template(store: TemplateStore, waba_id: str, content: JsonObject) -> Template:
    name = str(content["name"])
    language = str(content["language"]["code"])
    template = store.find(waba_id, name, language)
    if template is None:
        raise GraphError(TEMPLATE_MISSING, f"template name ({name}) does not exist in {language}")
    if template.status in _PAUSED:
        raise GraphError(_PAUSED[template.status], f"template {name} ({language}) is {template.status}")
    if template.status != "APPROVED":
        raise GraphError(TEMPLATE_MISSING, f"template name ({name}) in {language} is {template.status}, not APPROVED")
    return template


def _sent_components(content: JsonObject) -> dict[str, list[JsonObject]]:
    by_kind: dict[str, list[JsonObject]] = {}
    for component in content.get("components") or []:
        by_kind.setdefault(str(component.get("type", "")).lower(), []).append(component)
    return by_kind


def _count_error(where: str, got: int, expected: int) -> GraphError:
    return GraphError(
        TEMPLATE_PARAMETER_COUNT,
        f"{where}: number of localizable_params ({got}) does not match the expected number of params ({expected})",
    )


def check_parameters(template: Template, content: JsonObject) -> None:
    sent = _sent_components(content)
    body_params = [p for c in sent.get("body", []) for p in c.get("parameters", [])]
    expected = placeholders(body_text(template), template.parameter_format)
    if len(body_params) != len(expected):
        raise _count_error("body", len(body_params), len(expected))
    if template.parameter_format == "NAMED":
        names = [p.get("parameter_name") for p in body_params]
        if sorted(str(n) for n in names) != sorted(expected):
            raise GraphError(TEMPLATE_PARAMETER_COUNT, f"body: parameter names {names} do not match {expected}")
    _check_header(template, [p for c in sent.get("header", []) for p in c.get("parameters", [])])
    buttons = template.buttons()
    for component in sent.get("button", []):
        index = int(str(component.get("index", "0"))) if str(component.get("index", "0")).isdigit() else -1
        if not 0 <= index < len(buttons):
            raise GraphError(TEMPLATE_PARAMETER_COUNT, f"button: the template has no button at index {index}")


def _check_header(template: Template, params: list[JsonObject]) -> None:
    header = template.component("HEADER")
    if header is None:
        if params:
            raise _count_error("header", len(params), 0)
        return
    header_format = str(header.get("format", "TEXT")).upper()
    if header_format == "TEXT":
        expected = len(placeholders(str(header.get("text", "")), template.parameter_format))
        if len(params) != expected:
            raise _count_error("header", len(params), expected)
        if params and params[0].get("type") != "text":
            raise GraphError(TEMPLATE_PARAMETER_FORMAT, "header: expected a text parameter")
        return
    if len(params) != 1:
        raise _count_error("header", len(params), 1)
    if str(params[0].get("type", "")).upper() != header_format:
        raise GraphError(
            TEMPLATE_PARAMETER_FORMAT,
            f"header: expected a {header_format.lower()} parameter, got {params[0].get('type')}",
        )


def _display(parameter: JsonObject) -> str:
    kind = parameter.get("type")
    if kind == "text":
        return str(parameter.get("text", ""))
    if kind in ("currency", "date_time"):
        return str(parameter.get(str(kind), {}).get("fallback_value", ""))
    return ""


def _fill(text: str, params: list[JsonObject], parameter_format: str) -> str:
    if parameter_format == "NAMED":
        values = {str(p.get("parameter_name")): _display(p) for p in params}
    else:
        values = {str(i + 1): _display(p) for i, p in enumerate(params)}
    return re.sub(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}", lambda m: values.get(m.group(1), m.group(0)), text)


def render(template: Template, content: JsonObject) -> JsonObject:
    """The template as the phone shows it, with parameters filled in."""
    sent = _sent_components(content)
    rendered: JsonObject = {"name": template.name, "language": template.language, "category": template.category}
    header = template.component("HEADER")
    header_params = [p for c in sent.get("header", []) for p in c.get("parameters", [])]
    if header is not None:
        header_format = str(header.get("format", "TEXT")).upper()
        if header_format == "TEXT":
            rendered["header"] = {
                "type": "text",
                "text": _fill(str(header.get("text", "")), header_params, template.parameter_format),
            }
        else:
            kind = header_format.lower()
            media = header_params[0].get(kind, {}) if header_params else {}
            rendered["header"] = {"type": kind, kind: media}
    body_params = [p for c in sent.get("body", []) for p in c.get("parameters", [])]
    rendered["body"] = _fill(body_text(template), body_params, template.parameter_format)
    footer = template.component("FOOTER")
    if footer is not None and isinstance(footer.get("text"), str):
        rendered["footer"] = footer["text"]
    sent_buttons = {str(c.get("index")): c for c in sent.get("button", [])}
    rendered["buttons"] = [
        _render_button(i, button, sent_buttons.get(str(i))) for i, button in enumerate(template.buttons())
    ]
    return rendered


def _render_button(index: int, button: JsonObject, sent: JsonObject | None) -> JsonObject:
    kind = str(button.get("type", "")).upper()
    params = sent.get("parameters", []) if sent else []
    out: JsonObject = {"index": index, "type": kind, "text": str(button.get("text", ""))}
    if kind == "QUICK_REPLY":
        payload = next((p.get("payload") for p in params if p.get("type") == "payload"), None)
        out["payload"] = payload if isinstance(payload, str) else out["text"]
    elif kind == "URL":
        out["url"] = _fill(str(button.get("url", "")), params, "POSITIONAL")
    elif kind == "OTP":
        out["text"] = out["text"] or "Copy code"
    elif kind == "PHONE_NUMBER":
        out["phone_number"] = button.get("phone_number")
    elif kind == "FLOW":
        for key in ("flow_id", "flow_name", "navigate_screen", "flow_action"):
            if button.get(key) is not None:
                out[key] = button[key]
        action = next((p.get("action") for p in params if p.get("type") == "action"), None)
        if isinstance(action, dict):
            out["flow_token"] = action.get("flow_token")
            out["flow_action_data"] = action.get("flow_action_data")
    return out


def pricing_for(chat: Chat, template: Template | None, now: datetime) -> Pricing:
    in_window = window_open(chat, now)
    if template is None:
        category, kind = "service", "free_customer_service"
    else:
        category = template.category.lower()
        kind = "free_customer_service" if category == "utility" and in_window else "regular"
    conversation = chat.conversations.get(category)
    if conversation is None or conversation[1] <= now:
        conversation = (node_id(), now + _WINDOW)
        chat.conversations[category] = conversation
    return Pricing(category, kind, conversation[0], conversation[1])
