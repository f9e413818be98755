"""The WhatsApp client's half of Flows: open a Flow message, walk its screens, and talk to the business's
Flow endpoint exactly as Meta does (reference section 5.1): the JSON request is encrypted with a fresh
AES-128-GCM key wrapped by the business public key (RSA-OAEP SHA-256), the body is signed with the app
secret, and the reply is decrypted with the same key and the bit-inverted IV. A `SUCCESS` screen, or a
`complete` action, ends the Flow with an `nfm_reply` message from the customer."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from loket.channel.flows_crypto import FlowCryptoError, decrypt_response, encrypt_request, load_public_key
from loket.channel.signature import SIGNATURE_HEADER, sign
from loket.sandbox.inbound import flow_parameters
from loket.sandbox.state import SandboxState

JsonObject = dict[str, Any]

_ENDPOINT_TIMEOUT_SECONDS = 15.0  # what BSP proxies allow; Meta's own budget is unpublished
_ENDPOINT_ERRORS = {
    421: "the endpoint could not decrypt the request (421): is the uploaded business public key current?",
    432: "the endpoint rejected the request signature (432): does it use the same app secret?",
}


class FlowError(Exception):
    """The Flow cannot go on; the message is shown to the person using the simulator."""


@dataclass(slots=True)
class FlowSession:
    id: str
    message_id: str
    phone_number_id: str
    wa_id: str
    flow_key: str
    flow_token: str | None
    flow_json: JsonObject | None
    endpoint_url: str | None
    data_api_version: str
    screen: str | None = None
    history: list[str] = field(default_factory=list)


def _screen(flow_json: JsonObject | None, screen_id: str | None) -> JsonObject | None:
    screens = (flow_json or {}).get("screens") or []
    for screen in screens:
        if isinstance(screen, dict) and (screen_id is None or screen.get("id") == screen_id):
            return screen
    return None


def step(session: FlowSession, screen_id: str | None, data: JsonObject, error: str | None = None) -> JsonObject:
    """What the page renders next: a screen from the Flow JSON, or a generic form when there is none."""
    screen = _screen(session.flow_json, screen_id)
    if screen is not None:
        screen_id = str(screen.get("id"))
    session.screen = screen_id
    if screen_id is not None and (not session.history or session.history[-1] != screen_id):
        session.history.append(screen_id)
    # Flow JSON declares screen data as a schema with `__example__` values; live values come from `data`.
    schema = (screen or {}).get("data") or {}
    examples = {k: v["__example__"] for k, v in schema.items() if isinstance(v, dict) and "__example__" in v}
    values = {**examples, **data}
    result: JsonObject = {
        "session": session.id,
        "screen": screen_id,
        "title": (screen or {}).get("title") or screen_id or "Form",
        "layout": (screen or {}).get("layout"),
        "data": values,
        "generic_action": "data_exchange" if session.endpoint_url else "complete",
        "can_go_back": len(session.history) > 1,
        "done": False,
    }
    if error:
        result["error"] = error
    return result


def open_session(state: SandboxState, message_id: str) -> tuple[FlowSession, JsonObject]:
    """Start a Flow from the business message that carries it; returns the session and how it opens."""
    message = state.chats.message(message_id)
    params = flow_parameters(message) if message is not None else None
    if message is None or params is None:
        raise FlowError("that message has no Flow to open")
    number = state.numbers.get(message.phone_number_id)
    if number is None:
        raise FlowError("the business number of this message is gone")
    flow_key = str(params.get("flow_id") or params.get("flow_name") or "")
    flow_json = state.settings.flow_json.get(flow_key)
    session = FlowSession(
        id=secrets.token_urlsafe(12),
        message_id=message.id,
        phone_number_id=number.phone_number_id,
        wa_id=message.wa_id,
        flow_key=flow_key,
        flow_token=params.get("flow_token"),
        flow_json=flow_json,
        endpoint_url=number.flow_endpoint_url or state.settings.default_flow_endpoint_url,
        data_api_version=str((flow_json or {}).get("data_api_version") or "3.0"),
    )
    return session, params


def screen_refreshes_on_back(session: FlowSession, screen_id: str | None) -> bool:
    screen = _screen(session.flow_json, screen_id)
    return bool(screen and screen.get("refresh_on_back"))


def init_request(session: FlowSession) -> JsonObject:
    return {"version": session.data_api_version, "action": "INIT", "flow_token": session.flow_token}


def exchange_request(session: FlowSession, screen: str | None, data: JsonObject, action: str) -> JsonObject:
    return {
        "version": session.data_api_version,
        "action": action,
        "screen": screen,
        "data": data,
        "flow_token": session.flow_token,
    }


async def call_endpoint(state: SandboxState, session: FlowSession, payload: JsonObject) -> JsonObject:
    """One encrypted, signed round trip to the business's Flow endpoint."""
    if not session.endpoint_url:
        raise FlowError("this Flow needs the business's Flow endpoint, and none is configured")
    pem = state.business_keys.get(session.phone_number_id)
    if not pem:
        raise FlowError("no business public key: upload one with POST /{phone_number_id}/whatsapp_business_encryption")
    try:
        request = encrypt_request(payload, load_public_key(pem))
    except FlowCryptoError as exc:
        raise FlowError(f"cannot encrypt for the business public key: {exc}") from None
    raw = orjson.dumps(request.body)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(raw, state.settings.app_secret.encode()),
    }
    timeout = aiohttp.ClientTimeout(total=_ENDPOINT_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(session.endpoint_url, data=raw, headers=headers) as response,
        ):
            status, text = response.status, await response.text()
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise FlowError(f"the Flow endpoint is unreachable ({type(exc).__name__})") from None
    if status in _ENDPOINT_ERRORS:
        raise FlowError(_ENDPOINT_ERRORS[status])
    if status not in (200, 427):
        raise FlowError(f"the Flow endpoint answered HTTP {status}")
    try:
        reply = decrypt_response(text, request.aes_key, request.iv)
    except FlowCryptoError as exc:
        raise FlowError(f"the Flow endpoint's reply could not be decrypted: {exc}") from None
    if status == 427:
        raise FlowError(str(reply.get("error_msg") or "this Flow is no longer available (427)"))
    return reply


def completion_params(reply: JsonObject) -> JsonObject | None:
    """The params of a `SUCCESS` reply, which become the customer's `nfm_reply`."""
    if reply.get("screen") != "SUCCESS":
        return None
    data = reply.get("data") or {}
    params = (data.get("extension_message_response") or {}).get("params")
    return params if isinstance(params, dict) else {}
