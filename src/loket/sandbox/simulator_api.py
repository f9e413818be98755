"""The phone side, under `/_sandbox/`: who the demo customers are, what they send, what their chats look
like, and a live feed of changes (long-poll JSON or server-sent events) for the page and for tests."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from loket.sandbox import inbound, lifecycle
from loket.sandbox.chats import ChatMessage, epoch
from loket.sandbox.errors import GraphError, json_response
from loket.sandbox.graph_deps import sandbox_state
from loket.sandbox.media_route import store_upload
from loket.sandbox.rules import window_closes_at, window_open
from loket.sandbox.settings import PhoneNumber
from loket.sandbox.state import SandboxState

JsonObject = dict[str, Any]

router = APIRouter(prefix="/_sandbox")

_KEEPALIVE_SECONDS = 15.0


class SimulatorError(Exception):
    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


async def simulator_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SimulatorError)
    return json_response({"error": str(exc)}, exc.status_code)


async def read_json(request: Request) -> JsonObject:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise SimulatorError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise SimulatorError("the body must be a JSON object")
    return body


def _number_for(state: SandboxState, wa_id: str, phone_number_id: str | None) -> PhoneNumber:
    if not phone_number_id:
        phone = state.phone_for(wa_id)
        if phone is not None:
            phone_number_id = phone.phone_number_id
        elif len(state.numbers) == 1:
            phone_number_id = next(iter(state.numbers))
    number = state.numbers.get(phone_number_id or "")
    if number is None:
        raise SimulatorError("phone_number_id is unknown; say which business number the customer writes to")
    return number


@router.get("/phones")
async def phones(request: Request) -> Response:
    state = sandbox_state(request)
    numbers = state.numbers
    return json_response(
        {
            "phones": [
                {
                    "wa_id": p.wa_id,
                    "profile_name": p.profile_name,
                    "language": p.language,
                    "phone_number_id": p.phone_number_id,
                    "display_phone_number": numbers[p.phone_number_id].display_phone_number
                    if p.phone_number_id in numbers
                    else None,
                    "tenant_id": p.tenant_id,
                    "tenant_name": p.tenant_name,
                    "customer_id": p.customer_id,
                }
                for p in state.phones.values()
            ],
            "numbers": [
                {
                    "phone_number_id": n.phone_number_id,
                    "display_phone_number": n.display_phone_number,
                    "verified_name": n.verified_name,
                    "waba_id": n.waba_id,
                }
                for n in numbers.values()
            ],
            "graph_version": state.settings.graph_version,
            "fake_clock": state.fake_clock is not None,
            "now": epoch(state.clock.now()),
        }
    )


async def _inbound_spec(state: SandboxState, request: Request) -> JsonObject:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await read_json(request)
    form = await request.form()
    spec: JsonObject = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("file")
    if isinstance(upload, UploadFile):
        number = _number_for(state, str(spec.get("wa_id", "")), spec.get("phone_number_id"))
        mime_type = upload.content_type or "application/octet-stream"
        try:
            item = store_upload(
                state, number.phone_number_id, await upload.read(), mime_type, upload.filename, from_webhook=True
            )
        except GraphError as exc:
            raise SimulatorError(exc.details or exc.title) from None
        kind = spec.get("type") or ("image" if mime_type.startswith("image/") else "document")
        media: JsonObject = {
            "id": item.id,
            "mime_type": item.mime_type,
            "sha256": base64.b64encode(bytes.fromhex(item.sha256)).decode(),
        }
        if spec.get("caption"):
            media["caption"] = spec["caption"]
        if kind == "document":
            media["filename"] = upload.filename or f"{item.id}.pdf"
        spec.update(type=kind, media=media)
    return spec


def receive(state: SandboxState, spec: JsonObject) -> tuple[ChatMessage, int]:
    """Turn a simulator action into an inbound message and deliver its webhook."""
    wa_id = str(spec.get("wa_id") or "")
    if not wa_id:
        raise SimulatorError("wa_id is required")
    number = _number_for(state, wa_id, spec.get("phone_number_id"))
    phone = state.phone(number.phone_number_id, wa_id)
    chat = state.chats.chat(number.phone_number_id, wa_id, spec.get("profile_name") or None)
    profile = str(spec.get("profile_name") or (phone.profile_name if phone else chat.profile_name))
    try:
        payload = inbound.build(state, number, wa_id, spec)
    except inbound.InboundError as exc:
        raise SimulatorError(str(exc)) from None
    message = ChatMessage(
        id=payload["id"],
        phone_number_id=number.phone_number_id,
        wa_id=wa_id,
        direction="in",
        type=payload["type"],
        payload=payload,
        timestamp=state.clock.now(),
    )
    lifecycle.mark_chat_read(state, number.phone_number_id, wa_id)
    delivery = state.send_inbound(number, profile, message)
    return message, delivery.id


@router.post("/inbound")
async def post_inbound(request: Request) -> Response:
    state = sandbox_state(request)
    message, delivery_id = receive(state, await _inbound_spec(state, request))
    return json_response({"id": message.id, "webhook_id": delivery_id, "message": message.payload})


def chat_view(state: SandboxState, phone_number_id: str, wa_id: str) -> JsonObject:
    chat = state.chats.find_chat(phone_number_id, wa_id)
    if chat is None:
        raise SimulatorError("no such chat", 404)
    closes = window_closes_at(chat)
    return {
        "phone_number_id": phone_number_id,
        "wa_id": wa_id,
        "profile_name": chat.profile_name,
        "window_open": window_open(chat, state.clock.now()),
        "window_closes_at": epoch(closes) if closes else None,
        "open_in_simulator": state.open_chats[(phone_number_id, wa_id)] > 0,
        "messages": [message.as_dict() for message in chat.messages],
    }


@router.get("/chats/{phone_number_id}/{wa_id}")
async def get_chat(phone_number_id: str, wa_id: str, request: Request) -> Response:
    return json_response(chat_view(sandbox_state(request), phone_number_id, wa_id))


@router.post("/chats/{phone_number_id}/{wa_id}/read")
async def read_chat(phone_number_id: str, wa_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    return json_response({"read": lifecycle.mark_chat_read(state, phone_number_id, wa_id)})


@router.get("/media/{media_id}")
async def media(media_id: str, request: Request) -> Response:
    item = sandbox_state(request).media.get(media_id)
    if item is None:
        raise SimulatorError("no such media, or it has expired", 404)
    return Response(item.data, media_type=item.mime_type)


def _int(value: str | None, default: int) -> int:
    return int(value) if value is not None and value.lstrip("-").isdigit() else default


@router.get("/events")
async def events(request: Request) -> Response:
    state = sandbox_state(request)
    after = _int(request.query_params.get("after"), 0)
    timeout = min(float(_int(request.query_params.get("timeout"), 0)), 60.0)
    found = await state.events.wait(after, timeout)
    return json_response({"last_seq": state.events.last_seq, "events": found})


@router.get("/events/stream")
async def event_stream(request: Request) -> Response:
    state = sandbox_state(request)
    after = _int(request.headers.get("last-event-id") or request.query_params.get("after"), state.events.last_seq)
    open_chat = request.query_params.get("open", "")
    key = tuple(open_chat.split(":", 1)) if ":" in open_chat else None
    return StreamingResponse(
        _stream(state, after, key), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


async def _stream(state: SandboxState, after: int, key: tuple[str, ...] | None) -> AsyncIterator[bytes]:
    chat_key = (key[0], key[1]) if key is not None else None
    if chat_key is not None:
        state.open_chats[chat_key] += 1
        lifecycle.mark_chat_read(state, *chat_key)
    try:
        yield b"retry: 2000\n\n"
        while True:
            found = await state.events.wait(after, _KEEPALIVE_SECONDS)
            if not found:
                yield b": keepalive\n\n"
                continue
            for event in found:
                after = event["seq"]
                yield b"id: %d\nevent: %s\ndata: %s\n\n" % (after, event["kind"].encode(), orjson.dumps(event))
    finally:
        if chat_key is not None:
            state.open_chats[chat_key] -= 1
            with contextlib.suppress(KeyError):
                if state.open_chats[chat_key] <= 0:
                    del state.open_chats[chat_key]
