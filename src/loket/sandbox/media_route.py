"""Media endpoints (reference section 3), plus the generic `GET /{version}/{node_id}` that also answers for
templates and phone numbers, since Graph serves every node on the same path."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from loket.channel.limits import MEDIA_MIME_TYPES
from loket.sandbox.errors import ACCESS_TOKEN, INVALID_PARAMETER, MEDIA_UPLOAD, GraphError, json_response, unknown_node
from loket.sandbox.graph_deps import VERSION, apply_graph_faults, bearer_token, sandbox_base_url, sandbox_state
from loket.sandbox.media_store import MediaItem, media_kind, size_limit
from loket.sandbox.messages_route import authorised_number
from loket.sandbox.state import SandboxState

router = APIRouter(dependencies=[Depends(apply_graph_faults)])
download_router = APIRouter()

_ALL_TYPES = sorted(t for types in MEDIA_MIME_TYPES.values() for t in types)


@router.post(VERSION + "/{phone_number_id}/media")
async def upload(version: str, phone_number_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    number = authorised_number(state, request, phone_number_id)
    try:
        form = await request.form()
    except HTTPException as exc:
        raise GraphError(INVALID_PARAMETER, f"The upload is not valid multipart form data: {exc.detail}") from None
    if form.get("messaging_product") != "whatsapp":
        raise GraphError(INVALID_PARAMETER, "The parameter messaging_product is required and must be 'whatsapp'.")
    upload_file = form.get("file")
    if not isinstance(upload_file, UploadFile):
        raise GraphError(INVALID_PARAMETER, "The parameter file is required and must be a file upload.")
    declared = form.get("type")
    mime_type = (declared if isinstance(declared, str) and declared else upload_file.content_type) or ""
    data = await upload_file.read()
    item = store_upload(state, number.phone_number_id, data, mime_type, upload_file.filename)
    return json_response({"id": item.id})


def store_upload(
    state: SandboxState,
    phone_number_id: str,
    data: bytes,
    mime_type: str,
    filename: str | None,
    *,
    from_webhook: bool = False,
) -> MediaItem:
    kind = media_kind(mime_type)
    if kind is None:
        raise GraphError(
            INVALID_PARAMETER,
            f"Param file must be a file with one of the following types: {', '.join(_ALL_TYPES)}. "
            f"Received file of type '{mime_type}'.",
        )
    if not data:
        raise GraphError(MEDIA_UPLOAD, "The uploaded file is empty.")
    limit = size_limit(mime_type)
    if len(data) > limit:
        raise GraphError(MEDIA_UPLOAD, f"The file is {len(data)} bytes; {kind} files may be at most {limit} bytes.")
    return state.media.put(phone_number_id, data, mime_type, filename, from_webhook=from_webhook)


def _media_for(state: SandboxState, request: Request, media_id: str) -> MediaItem:
    owned = state.authorise_any(bearer_token(request))
    item = state.media.get(media_id)
    if item is None:
        raise unknown_node(media_id)
    owner = state.numbers.get(item.phone_number_id)
    if owner is not None and not any(n.waba_id == owner.waba_id for n in owned):
        raise unknown_node(media_id)
    scoped = request.query_params.get("phone_number_id")
    if scoped is not None and scoped != item.phone_number_id:
        raise GraphError(INVALID_PARAMETER, "Param phone_number_id does not match the number that owns the media.")
    return item


@router.get(VERSION + "/{node_id}")
async def get_node(version: str, node_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    token = bearer_token(request)
    number = state.numbers.get(node_id)
    if number is not None:
        state.authorise(token, number)
        return json_response(
            {
                "verified_name": number.verified_name,
                "display_phone_number": number.display_phone_number,
                "id": number.phone_number_id,
                "quality_rating": "GREEN",
                "platform_type": "CLOUD_API",
                "code_verification_status": "VERIFIED",
                "throughput": {"level": "STANDARD"},
            }
        )
    template = state.templates.get(node_id)
    if template is not None:
        state.authorise_waba(token, template.waba_id)
        return json_response(template.as_dict())
    item = _media_for(state, request, node_id)
    download = state.media.issue_download(item.id)
    return json_response(
        {
            "messaging_product": "whatsapp",
            "url": f"{sandbox_base_url(request)}/media-download/{download}",
            "mime_type": item.mime_type,
            "sha256": item.sha256,
            "file_size": item.file_size,
            "id": item.id,
        }
    )


@router.delete(VERSION + "/{node_id}")
async def delete_media(version: str, node_id: str, request: Request) -> Response:
    state = sandbox_state(request)
    item = _media_for(state, request, node_id)
    state.media.delete(item.id)
    return json_response({"success": True})


@download_router.get("/media-download/{token}")
async def download(token: str, request: Request) -> Response:
    state = sandbox_state(request)
    bearer = bearer_token(request)
    if bearer is None:
        raise GraphError(ACCESS_TOKEN, "Downloading media needs the access token.")
    owned = state.authorise_any(bearer)
    item = state.media.redeem(token)
    if item is None:
        raise GraphError(INVALID_PARAMETER, "The media URL has expired or does not exist.", http_status=404)
    owner = state.numbers.get(item.phone_number_id)
    if owner is not None and not any(n.waba_id == owner.waba_id for n in owned):
        raise GraphError(ACCESS_TOKEN, "The access token has no access to this media.")
    safe = "".join(ch for ch in item.filename or item.id if ch.isascii() and ch.isprintable() and ch not in '"\\')
    headers = {"Content-Disposition": f'attachment; filename="{safe or item.id}"'}
    return Response(item.data, media_type=item.mime_type, headers=headers)
