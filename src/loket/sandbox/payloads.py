"""Webhook bodies exactly as Meta sends them (reference section 1.3-1.5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loket.sandbox.chats import ChatMessage, epoch
from loket.sandbox.settings import PhoneNumber
from loket.sandbox.template_store import Template

JsonObject = dict[str, Any]


def _envelope(waba_id: str, field: str, value: JsonObject, at: datetime | None = None) -> JsonObject:
    entry: JsonObject = {"id": waba_id, "changes": [{"value": value, "field": field}]}
    if at is not None:
        entry["time"] = int(at.timestamp())
    return {"object": "whatsapp_business_account", "entry": [entry]}


def _metadata(number: PhoneNumber) -> JsonObject:
    return {"display_phone_number": number.display_phone_number, "phone_number_id": number.phone_number_id}


def inbound_message(number: PhoneNumber, profile_name: str, wa_id: str, message: JsonObject) -> JsonObject:
    value: JsonObject = {
        "messaging_product": "whatsapp",
        "metadata": _metadata(number),
        "contacts": [{"profile": {"name": profile_name}, "wa_id": wa_id}],
        "messages": [message],
    }
    return _envelope(number.waba_id, "messages", value)


def status(number: PhoneNumber, message: ChatMessage, state: str, at: datetime) -> JsonObject:
    item: JsonObject = {
        "id": message.id,
        "status": state,
        "timestamp": epoch(at),
        "recipient_id": message.wa_id,
    }
    if message.biz_opaque_callback_data is not None:
        item["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    pricing = message.pricing
    # Meta reports conversation and pricing on sent and delivered, not on read.
    if pricing is not None and state in ("sent", "delivered"):
        conversation: JsonObject = {"id": pricing.conversation_id, "origin": {"type": pricing.category}}
        if state == "sent":
            conversation["expiration_timestamp"] = epoch(pricing.conversation_expires_at)
        item["conversation"] = conversation
        item["pricing"] = {
            "billable": pricing.billable,
            "pricing_model": "PMP",
            "category": pricing.category,
            "type": pricing.type,
        }
    if state == "failed" and message.errors:
        item["errors"] = message.errors
    value: JsonObject = {"messaging_product": "whatsapp", "metadata": _metadata(number), "statuses": [item]}
    return _envelope(number.waba_id, "messages", value)


def template_status(template: Template, event: str, reason: str, at: datetime) -> JsonObject:
    value: JsonObject = {
        "event": event,
        "message_template_id": int(template.id),
        "message_template_name": template.name,
        "message_template_language": template.language,
        "reason": reason,
        "message_template_category": template.category,
    }
    if event == "REJECTED":
        value["rejection_info"] = {"reason": reason, "recommendation": "Edit the template and submit it again."}
    return _envelope(template.waba_id, "message_template_status_update", value, at)
