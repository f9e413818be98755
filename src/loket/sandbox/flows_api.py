"""Flow screens for the simulator page, under `/_sandbox/flows/`: open a Flow message, submit a screen,
and ping the business's Flow endpoint."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from loket.sandbox import flows
from loket.sandbox.errors import json_response
from loket.sandbox.flows import FlowError, FlowSession
from loket.sandbox.graph_deps import sandbox_state
from loket.sandbox.simulator_api import SimulatorError, read_json, receive
from loket.sandbox.state import SandboxState

JsonObject = dict[str, Any]

router = APIRouter(prefix="/_sandbox/flows")

_MAX_SESSIONS = 200


def _sessions(request: Request) -> dict[str, FlowSession]:
    sessions: dict[str, FlowSession] = request.app.state.sandbox.flow_sessions
    return sessions


def _complete(state: SandboxState, session: FlowSession, response: JsonObject) -> JsonObject:
    spec = {
        "wa_id": session.wa_id,
        "phone_number_id": session.phone_number_id,
        "type": "flow_completion",
        "message_id": session.message_id,
        "response": response,
    }
    message, webhook_id = receive(state, spec)
    return {"done": True, "message_id": message.id, "webhook_id": webhook_id, "session": session.id}


def _after_reply(state: SandboxState, session: FlowSession, reply: JsonObject) -> JsonObject:
    params = flows.completion_params(reply)
    if params is not None:
        return _complete(state, session, params)
    data = reply.get("data") or {}
    if not isinstance(data, dict):
        raise FlowError("the Flow endpoint's reply has no data object")
    if data.get("error_message"):
        return flows.step(session, session.screen, data, str(data["error_message"]))
    screen = reply.get("screen")
    if not isinstance(screen, str):
        raise FlowError("the Flow endpoint's reply names no screen")
    return flows.step(session, screen, data)


@router.post("/open")
async def open_flow(request: Request) -> Response:
    state = sandbox_state(request)
    body = await read_json(request)
    sessions = _sessions(request)
    try:
        session, params = flows.open_session(state, str(body.get("message_id", "")))
        if str(params.get("flow_action", "navigate")) == "data_exchange":
            result = _after_reply(
                state, session, await flows.call_endpoint(state, session, flows.init_request(session))
            )
        else:
            payload = params.get("flow_action_payload") or {}
            result = flows.step(session, payload.get("screen"), payload.get("data") or {})
    except FlowError as exc:
        raise SimulatorError(str(exc)) from None
    if not result.get("done"):
        sessions[session.id] = session
        while len(sessions) > _MAX_SESSIONS:
            sessions.pop(next(iter(sessions)))
    return json_response(result)


@router.post("/submit")
async def submit(request: Request) -> Response:
    state = sandbox_state(request)
    body = await read_json(request)
    session = _sessions(request).get(str(body.get("session", "")))
    if session is None:
        raise SimulatorError("this Flow session has ended or never existed", 404)
    payload = body.get("payload") or {}
    if not isinstance(payload, dict):
        raise SimulatorError("payload must be a JSON object")
    action = str(body.get("action") or "complete")
    screen = body.get("screen") if isinstance(body.get("screen"), str) else session.screen
    try:
        if action == "complete":
            result = _complete(state, session, payload)
        elif action == "navigate":
            result = flows.step(session, str(body.get("next") or ""), payload)
        elif action == "data_exchange":
            request_body = flows.exchange_request(session, screen, payload, "data_exchange")
            result = _after_reply(state, session, await flows.call_endpoint(state, session, request_body))
        elif action == "back":
            if len(session.history) > 1:
                session.history.pop()
            previous = session.history[-1] if session.history else None
            if session.endpoint_url and (flows.screen_refreshes_on_back(session, previous)):
                request_body = flows.exchange_request(session, previous, {}, "BACK")
                result = _after_reply(state, session, await flows.call_endpoint(state, session, request_body))
            else:
                result = flows.step(session, previous, {})
        else:
            raise SimulatorError("action must be complete, navigate, data_exchange or back")
    except FlowError as exc:
        result = flows.step(session, session.screen, {}, str(exc))
    if result.get("done"):
        _sessions(request).pop(session.id, None)
    return json_response(result)


@router.post("/ping")
async def ping(request: Request) -> Response:
    """Meta's health check: `{"action": "ping"}` should come back as `{"data": {"status": "active"}}`."""
    state = sandbox_state(request)
    body = await read_json(request)
    phone_number_id = str(body.get("phone_number_id") or next(iter(state.numbers), ""))
    number = state.numbers.get(phone_number_id)
    if number is None:
        raise SimulatorError("phone_number_id is unknown")
    session = FlowSession(
        id="ping",
        message_id="",
        phone_number_id=phone_number_id,
        wa_id="",
        flow_key="",
        flow_token=None,
        flow_json=None,
        endpoint_url=number.flow_endpoint_url or state.settings.default_flow_endpoint_url,
        data_api_version="3.0",
    )
    try:
        reply = await flows.call_endpoint(state, session, {"version": "3.0", "action": "ping"})
    except FlowError as exc:
        raise SimulatorError(str(exc), 502) from None
    return json_response({"reply": reply, "active": (reply.get("data") or {}).get("status") == "active"})
