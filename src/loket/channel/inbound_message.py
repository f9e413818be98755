"""Parse one inbound message (`value.messages[]`) into an `InboundMessage`, plus the lenient
JSON readers the webhook parser shares. Wire numbers may be strings or ints; nothing here raises.
Shapes: docs/reference whatsapp-cloud-api.md section 1.4.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from loket.channel.inbound_models import (
    MEDIA_KINDS,
    FlowResponse,
    InboundMessage,
    JsonObject,
    Location,
    Media,
    MessageContext,
    MessageKind,
    Order,
    OrderItem,
    Reaction,
    Referral,
    SharedContact,
    SharedPhone,
    SystemEvent,
    WebhookError,
)

# What a message's type-specific payload contributes to InboundMessage; None means "unusable".
_Body = dict[str, Any]


def as_str(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # beyond Python's int-to-str digit limit
            return None
    return None


def as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | str):
        try:
            number = float(value)
        except (ValueError, OverflowError):
            return None
        return number if math.isfinite(number) else None
    return None


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def as_object(value: object) -> JsonObject | None:
    return value if isinstance(value, dict) else None


def parse_errors(value: object) -> tuple[WebhookError, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(parse_error(item) for item in value if isinstance(item, dict))


def parse_error(item: JsonObject) -> WebhookError:
    data = as_object(item.get("error_data"))
    return WebhookError(
        code=as_int(item.get("code")),
        title=as_str(item.get("title")),
        message=as_str(item.get("message")),
        details=as_str(data.get("details")) if data else None,
        href=as_str(item.get("href")),
    )


# --- type-specific message payloads -------------------------------------------------------------


def _text(msg: JsonObject) -> _Body | None:
    text = as_object(msg.get("text"))
    body = as_str(text.get("body")) if text else None
    return None if body is None else {"kind": MessageKind.TEXT, "text": body}


def _media_parser(kind: MessageKind) -> Callable[[JsonObject], _Body | None]:
    key = kind.value

    def parse(msg: JsonObject) -> _Body | None:
        payload = as_object(msg.get(key))
        media_id = as_str(payload.get("id")) if payload else None
        if payload is None or not media_id:
            return None
        caption = as_str(payload.get("caption"))
        media = Media(
            id=media_id,
            mime_type=as_str(payload.get("mime_type")),
            sha256=as_str(payload.get("sha256")),
            filename=as_str(payload.get("filename")),
            caption=caption,
            url=as_str(payload.get("url")),
            voice=payload.get("voice") is True,
            animated=payload.get("animated") is True,
        )
        return {"kind": kind, "text": caption, "media": media}

    return parse


def _location(msg: JsonObject) -> _Body | None:
    payload = as_object(msg.get("location"))
    if payload is None:
        return None
    latitude, longitude = _float(payload.get("latitude")), _float(payload.get("longitude"))
    if latitude is None or longitude is None:
        return None
    location = Location(
        latitude=latitude,
        longitude=longitude,
        name=as_str(payload.get("name")),
        address=as_str(payload.get("address")),
        url=as_str(payload.get("url")),
    )
    return {"kind": MessageKind.LOCATION, "location": location}


def _shared_contact(card: JsonObject) -> SharedContact:
    name = as_object(card.get("name")) or {}
    phones = card.get("phones")
    emails = card.get("emails")
    return SharedContact(
        formatted_name=as_str(name.get("formatted_name")),
        first_name=as_str(name.get("first_name")),
        last_name=as_str(name.get("last_name")),
        phones=tuple(
            SharedPhone(phone=as_str(p.get("phone")), wa_id=as_str(p.get("wa_id")), type=as_str(p.get("type")))
            for p in (phones if isinstance(phones, list) else ())
            if isinstance(p, dict)
        ),
        emails=tuple(
            email
            for e in (emails if isinstance(emails, list) else ())
            if isinstance(e, dict) and (email := as_str(e.get("email"))) is not None
        ),
        raw=card,
    )


def _contacts(msg: JsonObject) -> _Body | None:
    cards = msg.get("contacts")
    if not isinstance(cards, list):
        return None
    contacts = tuple(_shared_contact(card) for card in cards if isinstance(card, dict))
    return {"kind": MessageKind.CONTACTS, "contacts": contacts}


def _reaction(msg: JsonObject) -> _Body | None:
    payload = as_object(msg.get("reaction"))
    message_id = as_str(payload.get("message_id")) if payload else None
    if payload is None or not message_id:
        return None
    emoji = as_str(payload.get("emoji")) or None
    return {"kind": MessageKind.REACTION, "text": emoji, "reaction": Reaction(message_id=message_id, emoji=emoji)}


def _flow_response(reply: JsonObject) -> FlowResponse:
    wire = reply.get("response_json")
    data: object = None
    response_json = None
    if isinstance(wire, dict):
        data = wire
    elif isinstance(wire, str):
        response_json = wire
        try:
            data = orjson.loads(wire)
        except orjson.JSONDecodeError:
            data = None
    decoded = data if isinstance(data, dict) else None
    return FlowResponse(
        name=as_str(reply.get("name")),
        body=as_str(reply.get("body")),
        data=decoded if decoded is not None else {},
        flow_token=as_str(decoded.get("flow_token")) if decoded is not None else None,
        response_json=response_json,
        malformed=decoded is None,
    )


_REPLY_KINDS = {
    "button_reply": MessageKind.INTERACTIVE_BUTTON_REPLY,
    "list_reply": MessageKind.INTERACTIVE_LIST_REPLY,
}


def _interactive(msg: JsonObject) -> _Body | None:
    payload = as_object(msg.get("interactive"))
    subtype = payload.get("type") if payload else None
    if payload is None or not isinstance(subtype, str):
        return None
    reply = as_object(payload.get(subtype))
    if reply is None:
        return None
    if subtype == "nfm_reply":
        flow = _flow_response(reply)
        return {"kind": MessageKind.FLOW_REPLY, "text": flow.body, "flow_response": flow}
    kind = _REPLY_KINDS.get(subtype)
    reply_id = as_str(reply.get("id"))
    if kind is None or not reply_id:
        return None
    return {"kind": kind, "text": as_str(reply.get("title")), "reply_id": reply_id}


def _template_button(msg: JsonObject) -> _Body | None:
    payload = as_object(msg.get("button"))
    if payload is None:
        return None
    return {
        "kind": MessageKind.TEMPLATE_BUTTON,
        "text": as_str(payload.get("text")),
        "reply_id": as_str(payload.get("payload")),
    }


def _order(msg: JsonObject) -> _Body | None:
    payload = as_object(msg.get("order"))
    if payload is None:
        return None
    items = payload.get("product_items")
    order = Order(
        catalog_id=as_str(payload.get("catalog_id")),
        text=as_str(payload.get("text")),
        items=tuple(
            OrderItem(
                product_retailer_id=as_str(item.get("product_retailer_id")),
                quantity=as_int(item.get("quantity")),
                item_price=_decimal(item.get("item_price")),
                currency=as_str(item.get("currency")),
            )
            for item in (items if isinstance(items, list) else ())
            if isinstance(item, dict)
        ),
    )
    return {"kind": MessageKind.ORDER, "text": order.text, "order": order}


def _system(msg: JsonObject) -> _Body | None:
    payload = as_object(msg.get("system"))
    if payload is None:
        return None
    # Current payloads put identity{} beside system{}; older docs put a hash string inside it.
    identity = as_object(msg.get("identity")) or as_object(payload.get("identity"))
    acknowledged = identity.get("acknowledged") if identity else None
    body = as_str(payload.get("body"))
    event = SystemEvent(
        type=as_str(payload.get("type")),
        body=body,
        new_wa_id=as_str(payload.get("wa_id")) or as_str(payload.get("new_wa_id")),
        identity_acknowledged=acknowledged if isinstance(acknowledged, bool) else None,
        identity_created_timestamp=as_int(identity.get("created_timestamp")) if identity else None,
        identity_hash=as_str(identity.get("hash")) if identity else as_str(payload.get("identity")),
    )
    return {"kind": MessageKind.SYSTEM, "text": body, "system": event}


def _unsupported(msg: JsonObject) -> _Body:
    return {"kind": MessageKind.UNSUPPORTED}


_BODY_PARSERS: dict[str, Callable[[JsonObject], _Body | None]] = {
    "text": _text,
    **{kind.value: _media_parser(kind) for kind in MEDIA_KINDS},
    "location": _location,
    "contacts": _contacts,
    "reaction": _reaction,
    "interactive": _interactive,
    "button": _template_button,
    "order": _order,
    "system": _system,
    "unsupported": _unsupported,
    "unknown": _unsupported,  # the older name for `unsupported`
}
_UNKNOWN: _Body = {"kind": MessageKind.UNKNOWN}


# --- common message parts -----------------------------------------------------------------------


def _context(value: object) -> MessageContext | None:
    context = as_object(value)
    if context is None:
        return None
    product = as_object(context.get("referred_product")) or {}
    return MessageContext(
        message_id=as_str(context.get("id")),
        from_wa_id=as_str(context.get("from")),
        forwarded=context.get("forwarded") is True,
        frequently_forwarded=context.get("frequently_forwarded") is True,
        referred_catalog_id=as_str(product.get("catalog_id")),
        referred_product_retailer_id=as_str(product.get("product_retailer_id")),
    )


def _referral(value: object) -> Referral | None:
    ref = as_object(value)
    if ref is None:
        return None
    return Referral(
        source_url=as_str(ref.get("source_url")),
        source_id=as_str(ref.get("source_id")),
        source_type=as_str(ref.get("source_type")),
        headline=as_str(ref.get("headline")),
        body=as_str(ref.get("body")),
        media_type=as_str(ref.get("media_type")),
        image_url=as_str(ref.get("image_url")),
        video_url=as_str(ref.get("video_url")),
        thumbnail_url=as_str(ref.get("thumbnail_url")),
        ctwa_clid=as_str(ref.get("ctwa_clid")),
    )


def _find_contact(contacts: list[Any], wa_id: str | None, user_id: str | None) -> JsonObject | None:
    for key, wanted in (("wa_id", wa_id), ("user_id", user_id)):
        if wanted is None:
            continue
        for contact in contacts:
            if isinstance(contact, dict) and as_str(contact.get(key)) == wanted:
                return contact
    return None


def parse_message(
    msg: object, contacts: list[Any], phone_number_id: str, display: str | None, waba_id: str | None
) -> InboundMessage | str:
    """The message, or the reason code it could not be used."""
    if not isinstance(msg, dict):
        return "message_not_object"
    wamid = as_str(msg.get("id"))
    if not wamid:
        return "message_without_id"
    wa_id = as_str(msg.get("from")) or None
    user_id = as_str(msg.get("from_user_id")) or None
    if wa_id is None and user_id is None:
        return "message_without_sender"
    contact = _find_contact(contacts, wa_id, user_id) if contacts else None
    profile_name = None
    if contact is not None:
        profile = as_object(contact.get("profile"))
        profile_name = as_str(profile.get("name")) if profile else None
        user_id = user_id or as_str(contact.get("user_id")) or None
    wire_type = msg.get("type")
    body = None
    if isinstance(wire_type, str):
        parser = _BODY_PARSERS.get(wire_type)
        body = parser(msg) if parser is not None else None
    else:
        wire_type = None
    return InboundMessage(
        wamid=wamid,
        phone_number_id=phone_number_id,
        display_phone_number=display,
        waba_id=waba_id,
        wa_id=wa_id,
        user_id=user_id,
        profile_name=profile_name,
        timestamp=as_int(msg.get("timestamp")),
        type=wire_type,
        context=_context(msg.get("context")),
        referral=_referral(msg.get("referral")),
        errors=parse_errors(msg.get("errors")),
        raw=msg,
        **(body or _UNKNOWN),
    )
