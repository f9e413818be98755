"""`/{version}/{waba_id}/message_templates`: create, list and delete (reference section 4.2)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from loket.sandbox.errors import INVALID_PARAMETER, GraphError, json_response, unknown_node
from loket.sandbox.graph_deps import VERSION, apply_graph_faults, bearer_token, sandbox_state
from loket.sandbox.messages_route import json_body
from loket.sandbox.state import SandboxState

router = APIRouter(dependencies=[Depends(apply_graph_faults)])

PATH = VERSION + "/{waba_id}/message_templates"


def _authorised_waba(state: SandboxState, request: Request, waba_id: str) -> None:
    token = bearer_token(request)
    state.authorise_any(token)
    if waba_id not in state.waba_ids():
        raise unknown_node(waba_id)
    state.authorise_waba(token, waba_id)


@router.post(PATH)
async def create_template(version: str, waba_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    _authorised_waba(state, request, waba_id)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise GraphError(INVALID_PARAMETER, "The request body must be a JSON object.")
    template = state.submit_template(waba_id, body)
    return json_response({"id": template.id, "status": template.status, "category": template.category})


@router.get(PATH)
async def list_templates(version: str, waba_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    _authorised_waba(state, request, waba_id)
    query = request.query_params
    found = [
        template.as_dict()
        for template in state.templates.select(waba_id)
        if all(
            query.get(key) is None or str(query.get(key)).upper() == str(getattr(template, key)).upper()
            for key in ("name", "status", "language", "category")
        )
    ]
    limit = query.get("limit")
    if limit is not None and limit.isdigit():
        found = found[: int(limit)]
    return json_response({"data": found, "paging": {"cursors": {"before": "", "after": ""}}})


@router.delete(PATH)
async def delete_template(version: str, waba_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    _authorised_waba(state, request, waba_id)
    name = request.query_params.get("name")
    if not name:
        raise GraphError(INVALID_PARAMETER, "The parameter name is required.")
    deleted = state.templates.delete(waba_id, name, request.query_params.get("hsm_id"))
    if not deleted:
        raise GraphError(INVALID_PARAMETER, f"Message template {name} was not found.", subcode=2593002)
    for template in deleted:
        template.status = "DELETED"
        state.events.publish("template", {"template": template.as_dict()})
    return json_response({"success": True})
