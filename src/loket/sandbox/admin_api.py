"""Controls and inspection under `/_sandbox/`: the fake clock, fault mode, template review, the webhook
delivery log, every accepted send, and run-time registration of numbers and demo phones."""

from __future__ import annotations

import secrets
from dataclasses import fields
from typing import Any

import aiohttp
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from loket.sandbox.errors import json_response
from loket.sandbox.graph_deps import sandbox_state
from loket.sandbox.settings import DemoPhone, PhoneNumber
from loket.sandbox.simulator_api import SimulatorError, read_json

JsonObject = dict[str, Any]

router = APIRouter(prefix="/_sandbox")

_REJECTION_REASONS = (
    "PROMOTIONAL",
    "ABUSIVE_CONTENT",
    "INCORRECT_CATEGORY",
    "INVALID_FORMAT",
    "TAG_CONTENT_MISMATCH",
    "SCAM",
    "NONE",
)


@router.post("/clock/advance")
async def advance_clock(request: Request) -> Response:
    state = sandbox_state(request)
    clock = state.fake_clock
    if clock is None:
        raise SimulatorError("the sandbox runs on the system clock; only a FakeClock can be advanced", 409)
    body = await read_json(request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise SimulatorError("seconds must be a non-negative number")
    clock.advance(float(seconds))
    fired = state.scheduler.run_due()
    return json_response({"now": int(clock.now().timestamp()), "timers_fired": fired})


@router.get("/faults")
async def get_faults(request: Request) -> Response:
    return json_response(sandbox_state(request).settings.faults.as_dict())


@router.post("/faults")
async def set_faults(request: Request) -> Response:
    faults = sandbox_state(request).settings.faults
    try:
        faults.update(await read_json(request))
    except ValueError as exc:
        raise SimulatorError(str(exc)) from None
    return json_response(faults.as_dict())


@router.get("/templates")
async def templates(request: Request) -> Response:
    state = sandbox_state(request)
    return json_response({"templates": [t.as_dict() | {"waba_id": t.waba_id} for t in state.templates.select()]})


@router.post("/templates/{template_id}/{decision}")
async def review_template(template_id: str, decision: str, request: Request) -> Response:
    state = sandbox_state(request)
    template = state.templates.get(template_id)
    if template is None:
        raise SimulatorError("no such template", 404)
    body = await read_json(request)
    if decision == "approve":
        state.set_template_status(template, "APPROVED")
    elif decision == "reject":
        reason = str(body.get("reason", "INVALID_FORMAT")).upper()
        if reason not in _REJECTION_REASONS:
            raise SimulatorError(f"reason must be one of {', '.join(_REJECTION_REASONS)}")
        state.set_template_status(template, "REJECTED", reason)
    elif decision in ("pause", "disable"):
        state.set_template_status(template, "PAUSED" if decision == "pause" else "DISABLED")
    else:
        raise SimulatorError("decision must be approve, reject, pause or disable", 404)
    return json_response(template.as_dict())


@router.get("/webhooks")
async def webhooks(request: Request) -> Response:
    state = sandbox_state(request)
    query = request.query_params
    wait = query.get("wait_idle")
    if wait is not None:
        await state.dispatcher.wait_idle(min(float(wait or 5), 30.0))
    with_body = query.get("body", "1") != "0"
    kind = query.get("kind")
    found = [
        delivery.as_dict(with_body=with_body)
        for delivery in state.dispatcher.deliveries()
        if kind is None or delivery.summary.get("kind") == kind
    ]
    return json_response({"idle": state.dispatcher.idle(), "deliveries": found})


@router.post("/webhooks/verify")
async def verify_webhook(request: Request) -> Response:
    """Meta's subscription handshake: GET the callback URL with `hub.*` and expect the challenge back."""
    state = sandbox_state(request)
    body = await read_json(request)
    url = state.settings.webhook_url
    token = body.get("verify_token") or state.settings.webhook_verify_token
    if not url or not token:
        raise SimulatorError("both a webhook_url and a verify token are needed")
    challenge = str(secrets.randbelow(10**9))
    params = {"hub.mode": "subscribe", "hub.verify_token": str(token), "hub.challenge": challenge}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(url, params=params) as response,
        ):
            status, text = response.status, await response.text()
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise SimulatorError(f"the webhook URL is unreachable ({type(exc).__name__})", 502) from None
    return json_response({"verified": status == 200 and text == challenge, "status": status})


@router.get("/sent")
async def sent(request: Request) -> Response:
    state = sandbox_state(request)
    query = request.query_params
    found = [
        message.as_dict()
        for message in state.chats.sent
        if (query.get("phone_number_id") in (None, message.phone_number_id))
        and (query.get("to") in (None, message.wa_id))
    ]
    return json_response({"count": len(found), "messages": found})


@router.post("/reset")
async def reset(request: Request) -> Response:
    state = sandbox_state(request)
    state.reset()
    return json_response({"success": True})


def _build(cls: type[Any], body: JsonObject) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = set(body) - names
    if unknown:
        raise SimulatorError(f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        return cls(**body)
    except TypeError as exc:
        raise SimulatorError(f"missing or invalid fields: {exc}") from None


@router.post("/numbers")
async def add_number(request: Request) -> Response:
    state = sandbox_state(request)
    number = _build(PhoneNumber, await read_json(request))
    state.add_number(number)
    return json_response({"phone_number_id": number.phone_number_id})


@router.post("/phones")
async def add_phone(request: Request) -> Response:
    state = sandbox_state(request)
    phone = _build(DemoPhone, await read_json(request))
    if phone.phone_number_id not in state.numbers:
        raise SimulatorError("phone_number_id is not a known business number")
    state.add_phone(phone)
    return json_response({"wa_id": phone.wa_id, "phone_number_id": phone.phone_number_id})
