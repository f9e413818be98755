"""Checks a `POST /{phone_number_id}/messages` body the way the Cloud API does, before any rule applies.

Codes: 100 for a malformed or unsupported top-level parameter, 131008 for a missing nested one, 131009
for a value out of bounds (limits from `loket.channel.limits`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loket.channel import limits
from loket.sandbox import fields as f
from loket.sandbox.errors import INVALID_PARAMETER, INVALID_VALUE, GraphError
from loket.sandbox.validate_interactive import MediaCheck, validate_interactive

JsonObject = dict[str, Any]

MESSAGE_TYPES = (
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "interactive",
    "template",
)
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
_CAPTIONED = ("image", "video", "document")
_TEMPLATE_COMPONENTS = ("header", "body", "button")
_PARAMETER_TYPES = (
    "text",
    "currency",
    "date_time",
    "image",
    "video",
    "document",
    "location",
    "payload",
    "action",
    "coupon_code",
)


@dataclass(frozen=True, slots=True)
class SendRequest:
    to: str
    wa_id: str
    type: str
    content: JsonObject
    biz_opaque_callback_data: str | None
    context_message_id: str | None
    media_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReadReceipt:
    message_id: str
    typing_indicator: bool


def normalise_number(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def parse_message_request(body: object) -> SendRequest | ReadReceipt:
    if not isinstance(body, dict):
        raise GraphError(INVALID_PARAMETER, "The request body must be a JSON object.")
    product = body.get("messaging_product")
    if product is None:
        raise GraphError(INVALID_PARAMETER, "The parameter messaging_product is required.")
    if product != "whatsapp":
        raise GraphError(INVALID_PARAMETER, "Param messaging_product must be 'whatsapp'.")
    if body.get("status") is not None:
        return _read_receipt(body)

    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise GraphError(INVALID_PARAMETER, "Param recipient_type must be 'individual' in the sandbox.")
    to = body.get("to")
    if to is None:
        raise GraphError(INVALID_PARAMETER, "The parameter to is required.")
    if not isinstance(to, str) or not normalise_number(to):
        raise GraphError(INVALID_PARAMETER, "Param to must be a phone number or a WhatsApp ID string.")
    kind = body.get("type", "text")
    if kind not in MESSAGE_TYPES:
        raise GraphError(INVALID_PARAMETER, f"Param type must be one of {{{', '.join(MESSAGE_TYPES)}}}.")

    tracker = f.text(
        body,
        "biz_opaque_callback_data",
        "biz_opaque_callback_data",
        limits.BIZ_OPAQUE_CALLBACK_DATA_MAX,
        required=False,
    )
    context = f.obj(body, "context", "context", required=False)
    context_id = f.req_text(context, "message_id", "context['message_id']") if context is not None else None

    media_ids: list[str] = []
    if kind == "contacts":
        content: JsonObject = {"contacts": _contacts(body)}
    else:
        value = body.get(kind)
        if value is None:
            raise GraphError(INVALID_PARAMETER, f"The parameter {kind} is required.")
        if not isinstance(value, dict):
            raise GraphError(INVALID_PARAMETER, f"Param {kind} must be a JSON object.")
        content = value
        _validate_content(kind, content, media_ids)
    return SendRequest(
        to=to,
        wa_id=normalise_number(to),
        type=kind,
        content=content,
        biz_opaque_callback_data=tracker,
        context_message_id=context_id,
        media_ids=tuple(media_ids),
    )


def _read_receipt(body: JsonObject) -> ReadReceipt:
    if body.get("status") != "read":
        raise GraphError(INVALID_PARAMETER, "Param status must be 'read'.")
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise GraphError(INVALID_PARAMETER, "The parameter message_id is required.")
    typing = f.obj(body, "typing_indicator", "typing_indicator", required=False)
    if typing is not None:
        f.one_of(typing.get("type"), ("text",), "typing_indicator['type']")
    return ReadReceipt(message_id, typing is not None)


def _validate_content(kind: str, content: JsonObject, media_ids: list[str]) -> None:
    def check_media(media: JsonObject, media_kind: str, where: str) -> None:
        _media(media, media_kind, where, media_ids)

    if kind == "text":
        f.req_text(content, "body", "text['body']", limits.TEXT_BODY_MAX)
        preview = content.get("preview_url")
        if preview is not None and not isinstance(preview, bool):
            raise GraphError(INVALID_PARAMETER, "Param text['preview_url'] must be a boolean.")
    elif kind in MEDIA_TYPES:
        _media(content, kind, kind, media_ids)
    elif kind == "location":
        f.number(content, "latitude", "location['latitude']", -90, 90)
        f.number(content, "longitude", "location['longitude']", -180, 180)
        f.text(content, "name", "location['name']", required=False, min_len=0)
        f.text(content, "address", "location['address']", required=False, min_len=0)
    elif kind == "reaction":
        f.req_text(content, "message_id", "reaction['message_id']")
        f.text(content, "emoji", "reaction['emoji']", 16, min_len=0)
    elif kind == "interactive":
        validate_interactive(content, check_media)
    elif kind == "template":
        _template(content, check_media)


def _media(media: JsonObject, kind: str, where: str, media_ids: list[str]) -> None:
    media_id, link = media.get("id"), media.get("link")
    if media_id is None and link is None:
        raise f.missing(f"{where}['id'] or {where}['link']")
    if media_id is not None and link is not None:
        raise GraphError(INVALID_PARAMETER, f"Param {where} must have only one of 'id' and 'link'.")
    if media_id is not None:
        media_ids.append(f.req_text(media, "id", f"{where}['id']"))
    else:
        f.http_url(f.req_text(media, "link", f"{where}['link']"), f"{where}['link']")
    caption = media.get("caption")
    if caption is not None:
        if kind not in _CAPTIONED:
            raise GraphError(INVALID_PARAMETER, f"Param {where}['caption'] is not allowed for {kind}.")
        f.text(media, "caption", f"{where}['caption']", limits.CAPTION_MAX, min_len=0)
    if media.get("filename") is not None:
        if kind != "document":
            raise GraphError(INVALID_PARAMETER, f"Param {where}['filename'] is only allowed for documents.")
        f.text(media, "filename", f"{where}['filename']", 240)


def _contacts(body: JsonObject) -> list[JsonObject]:
    contacts = f.array(body, "contacts", "contacts")
    if not contacts:
        raise GraphError(INVALID_VALUE, "Param contacts must have at least 1 contact.")
    for index, contact in enumerate(contacts):
        where = f.path("contacts", index)
        if not isinstance(contact, dict):
            raise GraphError(INVALID_PARAMETER, f"Param {where} must be a JSON object.")
        name = f.req_obj(contact, "name", f"{where}['name']")
        f.req_text(name, "formatted_name", f"{where}['name']['formatted_name']")
        phones = contact.get("phones")
        if phones is not None and not isinstance(phones, list):
            raise GraphError(INVALID_PARAMETER, f"Param {where}['phones'] must be an array.")
    return contacts


def _template(template: JsonObject, check_media: MediaCheck) -> None:
    f.req_text(template, "name", "template['name']", limits.TEMPLATE_NAME_MAX)
    language = f.req_obj(template, "language", "template['language']")
    f.req_text(language, "code", "template['language']['code']")
    components = template.get("components")
    if components is None:
        return
    if not isinstance(components, list):
        raise GraphError(INVALID_PARAMETER, "Param template['components'] must be an array.")
    for c_index, component in enumerate(components):
        where = f.path("template", "components", c_index)
        if not isinstance(component, dict):
            raise GraphError(INVALID_PARAMETER, f"Param {where} must be a JSON object.")
        kind = f.one_of(str(component.get("type", "")).lower(), _TEMPLATE_COMPONENTS, f"{where}['type']")
        if kind == "button":
            f.one_of(
                component.get("sub_type"),
                ("quick_reply", "url", "flow", "copy_code", "catalog"),
                f"{where}['sub_type']",
            )
            if component.get("index") is None:
                raise f.missing(f"{where}['index']")
        parameters = component.get("parameters", [])
        if not isinstance(parameters, list):
            raise GraphError(INVALID_PARAMETER, f"Param {where}['parameters'] must be an array.")
        for p_index, parameter in enumerate(parameters):
            _template_parameter(parameter, f"{where}['parameters'][{p_index}]", check_media)


def _template_parameter(parameter: object, where: str, check_media: MediaCheck) -> None:
    if not isinstance(parameter, dict):
        raise GraphError(INVALID_PARAMETER, f"Param {where} must be a JSON object.")
    kind = f.one_of(parameter.get("type"), _PARAMETER_TYPES, f"{where}['type']")
    if kind == "text":
        f.req_text(parameter, "text", f"{where}['text']")
    elif kind in ("currency", "date_time"):
        value = f.req_obj(parameter, kind, f"{where}['{kind}']")
        f.req_text(value, "fallback_value", f"{where}['{kind}']['fallback_value']")
    elif kind in ("image", "video", "document"):
        check_media(f.req_obj(parameter, kind, f"{where}['{kind}']"), kind, f"{where}['{kind}']")
    elif kind == "payload":
        f.req_text(parameter, "payload", f"{where}['payload']")
