"""What happens to an accepted outbound message: `sent`, `delivered`, then `read` once the customer
looks (the simulator shows the chat, the customer writes back, or the auto-read delay passes), or a
single `failed` when the send was accepted but cannot be delivered."""

from __future__ import annotations

from typing import Any

from loket.sandbox.chats import ChatMessage
from loket.sandbox.errors import MEDIA_UPLOAD, UNDELIVERABLE, GraphError
from loket.sandbox.ids import wamid
from loket.sandbox.rules import pricing_for
from loket.sandbox.settings import PhoneNumber
from loket.sandbox.state import SandboxState
from loket.sandbox.template_store import Template
from loket.sandbox.validate import SendRequest

JsonObject = dict[str, Any]


def accept(
    state: SandboxState,
    number: PhoneNumber,
    request: SendRequest,
    body: JsonObject,
    template: Template | None,
    rendered: JsonObject | None,
) -> ChatMessage:
    now = state.clock.now()
    chat = state.chats.chat(number.phone_number_id, request.wa_id)
    message = ChatMessage(
        id=wamid(request.wa_id),
        phone_number_id=number.phone_number_id,
        wa_id=request.wa_id,
        direction="out",
        type=request.type,
        payload=body,
        timestamp=now,
        biz_opaque_callback_data=request.biz_opaque_callback_data,
        pricing=pricing_for(chat, template, now),
        rendered=rendered,
    )
    message.advance("accepted", now)
    message.pending_failure = _async_failure(state, request)
    state.chats.add(message)
    state.events.publish("message", {"message": message.as_dict()})
    message_id = message.id
    state.scheduler.call_later(0, lambda: _progress(state, message_id))
    return message


def _async_failure(state: SandboxState, request: SendRequest) -> JsonObject | None:
    if not state.is_whatsapp_user(request.wa_id) and state.phone_for(request.wa_id) is None:
        return GraphError(UNDELIVERABLE, "Message Undeliverable. The recipient is not a WhatsApp user.").webhook_error()
    for media_id in request.media_ids:
        if state.media.get(media_id) is None:
            return GraphError(MEDIA_UPLOAD, f"Media id {media_id} was not found or has expired.").webhook_error()
    return None


def _progress(state: SandboxState, message_id: str) -> None:
    message = state.chats.message(message_id)
    if message is None:
        return
    if message.pending_failure is not None:
        message.errors = [message.pending_failure]
        message.pricing = None
        state.send_status(message, "failed")
        return
    state.send_status(message, "sent")
    state.send_status(message, "delivered")
    if state.open_chats[(message.phone_number_id, message.wa_id)] > 0:
        state.send_status(message, "read")
    elif state.settings.auto_read_delay_seconds is not None:
        state.scheduler.call_later(state.settings.auto_read_delay_seconds, lambda: _read_one(state, message_id))


def _read_one(state: SandboxState, message_id: str) -> None:
    message = state.chats.message(message_id)
    if message is not None and message.status == "delivered":
        state.send_status(message, "read")


def mark_chat_read(state: SandboxState, phone_number_id: str, wa_id: str) -> int:
    """The customer has seen everything delivered so far."""
    chat = state.chats.find_chat(phone_number_id, wa_id)
    if chat is None:
        return 0
    read = 0
    for message in chat.messages:
        if message.direction == "out" and message.status == "delivered":
            state.send_status(message, "read")
            read += 1
    return read
