"""Cheap account stubs (reference section 9): register, deregister, two-step PIN, and the business
public key used to encrypt Flow data-exchange requests."""

from __future__ import annotations

import re

import orjson
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from loket.channel.flows_crypto import FlowKeyError, load_public_key
from loket.sandbox.errors import INVALID_PARAMETER, GraphError, json_response, unknown_node
from loket.sandbox.graph_deps import VERSION, apply_graph_faults, bearer_token, sandbox_state
from loket.sandbox.messages_route import authorised_number

router = APIRouter(dependencies=[Depends(apply_graph_faults)])

_PIN = re.compile(r"\d{6}")


async def _fields(request: Request) -> dict[str, str]:
    """Graph accepts JSON or form bodies alike."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise GraphError(INVALID_PARAMETER, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise GraphError(INVALID_PARAMETER, "The request body must be a JSON object.")
        return {str(k): str(v) for k, v in body.items() if v is not None}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _pin(fields: dict[str, str]) -> None:
    if not _PIN.fullmatch(fields.get("pin", "")):
        raise GraphError(INVALID_PARAMETER, "Param pin must be a 6-digit string.")


@router.post(VERSION + "/{phone_number_id}/register")
async def register(version: str, phone_number_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    number = authorised_number(state, request, phone_number_id)
    fields = await _fields(request)
    if fields.get("messaging_product") != "whatsapp":
        raise GraphError(INVALID_PARAMETER, "The parameter messaging_product is required.")
    _pin(fields)
    state.registered.add(number.phone_number_id)
    return json_response({"success": True})


@router.post(VERSION + "/{phone_number_id}/deregister")
async def deregister(version: str, phone_number_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    number = authorised_number(state, request, phone_number_id)
    state.registered.discard(number.phone_number_id)
    return json_response({"success": True})


@router.post(VERSION + "/{phone_number_id}")
async def two_step_pin(version: str, phone_number_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    authorised_number(state, request, phone_number_id)
    _pin(await _fields(request))
    return json_response({"success": True})


@router.post(VERSION + "/{phone_number_id}/whatsapp_business_encryption")
async def set_business_key(version: str, phone_number_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    number = authorised_number(state, request, phone_number_id)
    pem = (await _fields(request)).get("business_public_key", "")
    if not pem:
        raise GraphError(INVALID_PARAMETER, "The parameter business_public_key is required.")
    try:
        load_public_key(pem)
    except FlowKeyError:
        raise GraphError(
            INVALID_PARAMETER, "Param business_public_key must be a PEM RSA public key of 2048 bits."
        ) from None
    state.business_keys[number.phone_number_id] = pem
    return json_response({"success": True})


@router.get(VERSION + "/{phone_number_id}/whatsapp_business_encryption")
async def get_business_key(version: str, phone_number_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    number = authorised_number(state, request, phone_number_id)
    pem = state.business_keys.get(number.phone_number_id)
    data = [{"business_public_key": pem, "business_public_key_signature_status": "VALID"}] if pem else []
    return json_response({"data": data})


@router.get(VERSION + "/{waba_id}/phone_numbers")
async def phone_numbers(version: str, waba_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    token = bearer_token(request)
    state.authorise_any(token)
    if waba_id not in state.waba_ids():
        raise unknown_node(waba_id)
    state.authorise_waba(token, waba_id)
    numbers = [
        {
            "verified_name": n.verified_name,
            "display_phone_number": n.display_phone_number,
            "id": n.phone_number_id,
            "quality_rating": "GREEN",
            "platform_type": "CLOUD_API",
        }
        for n in state.numbers.values()
        if n.waba_id == waba_id
    ]
    return json_response({"data": numbers, "paging": {"cursors": {"before": "", "after": ""}}})
