"""Turn a (signature-checked) webhook body into typed records, on the receiver's hot path.

One orjson parse, then a direct walk over dicts: no whole-tree validation. It never raises: what it
cannot use goes to `ParsedEnvelope.unrecognised` with a reason code. Unknown extra fields are ignored.
Shapes: docs/reference whatsapp-cloud-api.md section 1.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

from loket.channel.inbound_message import as_int, as_object, as_str, parse_error, parse_errors, parse_message
from loket.channel.inbound_models import (
    MEDIA_KINDS,
    ChangeError,
    FlowResponse,
    InboundMessage,
    JsonObject,
    Location,
    MarketingPreferenceUpdate,
    Media,
    MessageContext,
    MessageKind,
    Order,
    OrderItem,
    ParsedEnvelope,
    Pricing,
    Reaction,
    Referral,
    SharedContact,
    SharedPhone,
    StatusUpdate,
    SystemEvent,
    TemplateStatusUpdate,
    Unrecognised,
    WebhookError,
    merge_status,
    status_rank,
)

__all__ = [
    "MEDIA_KINDS",
    "WHATSAPP_OBJECT",
    "ChangeError",
    "FlowResponse",
    "InboundMessage",
    "Location",
    "MarketingPreferenceUpdate",
    "Media",
    "MessageContext",
    "MessageKind",
    "Order",
    "OrderItem",
    "ParsedEnvelope",
    "Pricing",
    "Reaction",
    "Referral",
    "SharedContact",
    "SharedPhone",
    "StatusUpdate",
    "SystemEvent",
    "TemplateStatusUpdate",
    "Unrecognised",
    "WebhookError",
    "merge_status",
    "parse_envelope",
    "status_rank",
]

WHATSAPP_OBJECT = "whatsapp_business_account"


def parse_envelope(doc: object) -> ParsedEnvelope:
    """Parse a webhook body: the raw bytes (or str) as received, or the dict already decoded."""
    out = ParsedEnvelope()
    if isinstance(doc, bytes | bytearray | memoryview | str):
        try:
            doc = orjson.loads(doc)
        except orjson.JSONDecodeError:
            out.unrecognised.append(Unrecognised(reason="invalid_json", raw=doc))
            return out
    if not isinstance(doc, dict):
        out.unrecognised.append(Unrecognised(reason="envelope_not_object", raw=doc))
        return out
    if doc.get("object") != WHATSAPP_OBJECT:
        out.unrecognised.append(Unrecognised(reason="not_whatsapp", raw=doc))
        return out
    out.is_whatsapp = True
    entries = doc.get("entry")
    if not isinstance(entries, list):
        out.unrecognised.append(Unrecognised(reason="entry_not_list", raw=doc))
        return out
    for entry in entries:
        _parse_entry(entry, out)
    return out


def _parse_entry(entry: object, out: ParsedEnvelope) -> None:
    if not isinstance(entry, dict):
        out.unrecognised.append(Unrecognised(reason="entry_not_object", raw=entry))
        return
    waba_id = as_str(entry.get("id"))
    changes = entry.get("changes")
    if not isinstance(changes, list):
        out.unrecognised.append(Unrecognised(reason="changes_not_list", raw=entry, waba_id=waba_id))
        return
    for change in changes:
        if not isinstance(change, dict):
            out.unrecognised.append(Unrecognised(reason="change_not_object", raw=change, waba_id=waba_id))
            continue
        field = change.get("field")
        if not isinstance(field, str):
            out.unrecognised.append(Unrecognised(reason="change_without_field", raw=change, waba_id=waba_id))
            continue
        handler = _FIELD_HANDLERS.get(field)
        value = change.get("value")
        if handler is None:
            reason = "unhandled_field"
        elif not isinstance(value, dict):
            reason = "value_not_object"
        else:
            handler(value, waba_id, out)
            continue
        out.unrecognised.append(Unrecognised(reason=reason, raw=change, waba_id=waba_id, field=field))


def _metadata(value: JsonObject) -> tuple[str | None, str | None]:
    metadata = as_object(value.get("metadata"))
    if metadata is None:
        return None, None
    return as_str(metadata.get("phone_number_id")) or None, as_str(metadata.get("display_phone_number"))


def _parse_messages_change(value: JsonObject, waba_id: str | None, out: ParsedEnvelope) -> None:
    phone_number_id, display = _metadata(value)
    if phone_number_id is None:
        # Without it we cannot tell which institution's number this was for.
        out.unrecognised.append(
            Unrecognised(reason="missing_phone_number_id", raw=value, waba_id=waba_id, field="messages")
        )
        return

    def unrecognised(reason: str, raw: object) -> None:
        out.unrecognised.append(
            Unrecognised(reason=reason, raw=raw, waba_id=waba_id, phone_number_id=phone_number_id, field="messages")
        )

    messages, statuses, errors = value.get("messages"), value.get("statuses"), value.get("errors")
    if messages is None and statuses is None and errors is None:
        unrecognised("no_known_content", value)
        return
    if messages is not None:
        if isinstance(messages, list):
            contacts = value.get("contacts")
            contacts = contacts if isinstance(contacts, list) else []
            for msg in messages:
                parsed = parse_message(msg, contacts, phone_number_id, display, waba_id)
                if isinstance(parsed, str):
                    unrecognised(parsed, msg)
                else:
                    out.messages.append(parsed)
        else:
            unrecognised("messages_not_list", value)
    if statuses is not None:
        if isinstance(statuses, list):
            for status in statuses:
                update = _parse_status(status, phone_number_id, waba_id)
                if isinstance(update, str):
                    unrecognised(update, status)
                else:
                    out.statuses.append(update)
        else:
            unrecognised("statuses_not_list", value)
    if errors is not None:
        if isinstance(errors, list):
            for error in errors:
                if isinstance(error, dict):
                    out.errors.append(
                        ChangeError(
                            error=parse_error(error), waba_id=waba_id, phone_number_id=phone_number_id, raw=error
                        )
                    )
                else:
                    unrecognised("error_not_object", error)
        else:
            unrecognised("errors_not_list", value)


def _parse_status(status: object, phone_number_id: str, waba_id: str | None) -> StatusUpdate | str:
    if not isinstance(status, dict):
        return "status_not_object"
    wamid = as_str(status.get("id"))
    if not wamid:
        return "status_without_id"
    value = as_str(status.get("status"))
    if not value:
        return "status_without_status"
    conversation = as_object(status.get("conversation"))
    pricing = as_object(status.get("pricing"))
    billable = pricing.get("billable") if pricing else None
    return StatusUpdate(
        wamid=wamid,
        status=value,
        timestamp=as_int(status.get("timestamp")),
        recipient_id=as_str(status.get("recipient_id")),
        phone_number_id=phone_number_id,
        waba_id=waba_id,
        biz_opaque_callback_data=as_str(status.get("biz_opaque_callback_data")),
        conversation_id=as_str(conversation.get("id")) if conversation else None,
        pricing=Pricing(
            billable=billable if isinstance(billable, bool) else None,
            pricing_model=as_str(pricing.get("pricing_model")),
            category=as_str(pricing.get("category")),
            type=as_str(pricing.get("type")),
        )
        if pricing is not None
        else None,
        errors=parse_errors(status.get("errors")),
        raw=status,
    )


def _parse_template_change(value: JsonObject, waba_id: str | None, out: ParsedEnvelope) -> None:
    event = as_str(value.get("event"))
    if not event:
        out.unrecognised.append(
            Unrecognised(
                reason="template_update_without_event",
                raw=value,
                waba_id=waba_id,
                field="message_template_status_update",
            )
        )
        return
    out.template_updates.append(
        TemplateStatusUpdate(
            waba_id=waba_id,
            event=event,
            template_id=as_str(value.get("message_template_id")),
            name=as_str(value.get("message_template_name")),
            language=as_str(value.get("message_template_language")),
            reason=as_str(value.get("reason")),
            category=as_str(value.get("message_template_category")),
            raw=value,
        )
    )


def _parse_preferences_change(value: JsonObject, waba_id: str | None, out: ParsedEnvelope) -> None:
    phone_number_id, _ = _metadata(value)
    preferences = value.get("user_preferences")

    def unrecognised(reason: str, raw: object) -> None:
        out.unrecognised.append(
            Unrecognised(
                reason=reason,
                raw=raw,
                waba_id=waba_id,
                phone_number_id=phone_number_id,
                field="user_preferences",
            )
        )

    if not isinstance(preferences, list):
        unrecognised("user_preferences_not_list", value)
        return
    for pref in preferences:
        if not isinstance(pref, dict):
            unrecognised("preference_not_object", pref)
            continue
        wa_id, choice = as_str(pref.get("wa_id")), as_str(pref.get("value"))
        if not wa_id or not choice:
            unrecognised("preference_incomplete", pref)
            continue
        out.preference_updates.append(
            MarketingPreferenceUpdate(
                wa_id=wa_id,
                value=choice,
                category=as_str(pref.get("category")),
                detail=as_str(pref.get("detail")),
                timestamp=as_int(pref.get("timestamp")),
                phone_number_id=phone_number_id,
                waba_id=waba_id,
                raw=pref,
            )
        )


_FIELD_HANDLERS: dict[str, Callable[[JsonObject, str | None, ParsedEnvelope], None]] = {
    "messages": _parse_messages_change,
    "message_template_status_update": _parse_template_change,
    "user_preferences": _parse_preferences_change,
}
