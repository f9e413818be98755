"""`POST /{version}/{phone_number_id}/messages`: sends, read receipts and typing indicators."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from loket.sandbox import lifecycle
from loket.sandbox.errors import (
    INVALID_PARAMETER,
    PAIR_RATE,
    RE_ENGAGEMENT,
    SAME_NUMBER,
    THROUGHPUT,
    GraphError,
    json_response,
    unknown_node,
)
from loket.sandbox.graph_deps import VERSION, apply_graph_faults, bearer_token, json_body_error, sandbox_state
from loket.sandbox.rules import approved_template, check_parameters, render, window_open
from loket.sandbox.settings import PhoneNumber
from loket.sandbox.state import SandboxState
from loket.sandbox.validate import ReadReceipt, SendRequest, normalise_number, parse_message_request

JsonObject = dict[str, Any]

router = APIRouter(dependencies=[Depends(apply_graph_faults)])


def authorised_number(state: SandboxState, request: Request, phone_number_id: str) -> PhoneNumber:
    token = bearer_token(request)
    state.authorise_any(token)
    number = state.numbers.get(phone_number_id)
    if number is None:
        raise unknown_node(phone_number_id)
    state.authorise(token, number)
    return number


async def json_body(request: Request) -> object:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise json_body_error() from None


@router.post(VERSION + "/{phone_number_id}/messages")
@router.put(VERSION + "/{phone_number_id}/messages")
async def messages(version: str, phone_number_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    number = authorised_number(state, request, phone_number_id)
    body = await json_body(request)
    parsed = parse_message_request(body)
    if isinstance(parsed, ReadReceipt):
        return _read_receipt(state, number, parsed)
    assert isinstance(body, dict)
    return _send(state, number, parsed, body)


def _read_receipt(state: SandboxState, number: PhoneNumber, receipt: ReadReceipt) -> Response:
    message = state.chats.message(receipt.message_id)
    if message is None or message.direction != "in" or message.phone_number_id != number.phone_number_id:
        raise GraphError(INVALID_PARAMETER, "Param message_id does not name a message received by this number.")
    if message.status != "read":
        message.status = "read"
        state.events.publish("read", {"message": message.as_dict()})
    if receipt.typing_indicator:
        state.events.publish(
            "typing", {"phone_number_id": number.phone_number_id, "wa_id": message.wa_id, "seconds": 25}
        )
    return json_response({"success": True})


def _send(state: SandboxState, number: PhoneNumber, request: SendRequest, body: JsonObject) -> Response:
    if request.wa_id == normalise_number(number.display_phone_number):
        raise GraphError(SAME_NUMBER, "The recipient is the sending business number.")
    template = rendered = None
    if request.type == "template":
        template = approved_template(state.templates, number.waba_id, request.content)
        check_parameters(template, request.content)
        rendered = render(template, request.content)
    now = state.clock.now()
    chat = state.chats.find_chat(number.phone_number_id, request.wa_id)
    if template is None and state.settings.enforce_customer_service_window and not window_open(chat, now):
        raise GraphError(
            RE_ENGAGEMENT,
            "Message failed to send because more than 24 hours have passed since the customer last "
            "replied to this number.",
        )
    mono = state.clock.monotonic()
    mps = number.messages_per_second
    if mps > 0 and not state.limiter.allow(("mps", number.phone_number_id), mono, 1.0 / mps, int(mps)):
        raise GraphError(THROUGHPUT, f"Throughput of {mps:g} messages per second exceeded for this phone number.")
    settings = state.settings
    if not state.limiter.allow(
        ("pair", number.phone_number_id, request.wa_id),
        mono,
        settings.pair_rate_interval_seconds,
        settings.pair_rate_burst,
    ):
        raise GraphError(PAIR_RATE, "Too many messages sent to this recipient in a short period.")
    message = lifecycle.accept(state, number, request, body, template, rendered)
    return json_response(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": request.to, "wa_id": request.wa_id}],
            "messages": [{"id": message.id, "message_status": "accepted"}],
        }
    )
