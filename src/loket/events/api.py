"""The events API for institution systems: `POST /v1/events`, `POST /v1/events/batch` (up to 1,000),
`GET /v1/events/{id}` and `GET /v1/confirmations/{id}`; `POST /v1/notices` and `GET /v1/notices/{id}`
(notices_api.py).

Every request names its tenant (`X-Loket-Tenant`) and is signed with the tenant's secret over the
timestamp and the raw body (`X-Loket-Signature: t=...,v1=...`; a GET signs an empty body); see
signing.py. The body is read raw and validated per event, so a batch with some bad events accepts
the good ones.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from loket.db.engine import Database
from loket.db.scope import bind_tenant, tenant_scope, unscoped
from loket.events.confirming import ConfirmationService
from loket.events.intake import AuthError, EventIntake, TenantUnavailable
from loket.events.notices_api import add_notice_routes
from loket.events.schemas import EXAMPLES, MAX_BATCH, BatchResult, ErrorBody, Event, EventResult
from loket.events.signing import SIGNATURE_HEADER, TENANT_HEADER
from loket.events.tables import Confirmation
from loket.outbound.notice_request import NoticeRequest
from loket.outbound.notices import NoticeService

MAX_BODY = 4 * 1024 * 1024
REPLAYED_HEADER = "Idempotent-Replayed"


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema with its `$defs` inlined, for a request body documented by hand."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.split("/")[-1]]))
            return {k: walk(v) for k, v in node.items() if not (k == "mapping" and "propertyName" in node)}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    inlined: dict[str, Any] = walk(schema)
    return inlined


EVENT_SCHEMA = _inline(TypeAdapter(Event).json_schema())
BATCH_SCHEMA = {
    "type": "object",
    "required": ["events"],
    "properties": {"events": {"type": "array", "maxItems": MAX_BATCH, "items": EVENT_SCHEMA}},
}
_AUTH_HEADERS = [
    {"name": TENANT_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
    {
        "name": SIGNATURE_HEADER,
        "in": "header",
        "required": True,
        "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.' + raw body> with the tenant's secret",
        "schema": {"type": "string"},
    },
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not JSON of the documented shape"},
    401: {"model": ErrorBody, "description": "Missing or wrong signature, or a timestamp over 5 minutes old"},
    409: {"model": ErrorBody, "description": "The tenant is not active or has no active number"},
    413: {"model": ErrorBody, "description": "The body is larger than 4 MiB"},
}


async def _json(request: Request) -> object:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return _BAD


_BAD = object()


def build_events_router(
    intake: EventIntake, db: Database, confirmations: ConfirmationService, notices: NoticeService | None = None
) -> APIRouter:
    """The lead mounts it with `app.include_router(runtime.outbound.events_router())`."""
    router = APIRouter(prefix="/v1", tags=["events"], route_class=_EventsRoute)

    async def signed_tenant(request: Request) -> str:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            raise _Stop(_error(413, "too_large", f"the body is larger than {MAX_BODY} bytes"))
        body = await request.body()
        if len(body) > MAX_BODY:
            raise _Stop(_error(413, "too_large", f"the body is larger than {MAX_BODY} bytes"))
        claimed = (request.headers.get(TENANT_HEADER) or "").strip()
        try:
            # The secret is looked up inside the claimed tenant only; the request then works in the
            # tenant its signature proved (loket.db.scope), never in one named elsewhere.
            with tenant_scope(claimed) if claimed else unscoped():
                tenant_id = await intake.authenticate(claimed or None, request.headers.get(SIGNATURE_HEADER), body)
        except AuthError as exc:
            raise _Stop(_error(401, "unauthorized", str(exc))) from None
        bind_tenant(tenant_id)
        return tenant_id

    _register(signed_tenant)
    tenant_dependency = Depends(signed_tenant)

    @router.post(
        "/events",
        status_code=202,
        response_model=EventResult,
        responses={**_ERRORS, 422: {"model": EventResult, "description": "Invalid event, unknown customer or account"}},
        openapi_extra={
            "parameters": _AUTH_HEADERS,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": EVENT_SCHEMA, "examples": EXAMPLES}},
            },
        },
        summary="Send one event",
    )
    async def post_event(request: Request, tenant_id: str = tenant_dependency) -> Response:
        """Idempotent by `id`: sending an accepted event again returns its first answer
        (`replayed: true`, header `Idempotent-Replayed: true`)."""
        body = await _json(request)
        if body is _BAD or not isinstance(body, dict):
            return _error(400, "bad_request", "the body must be one event as a JSON object")
        try:
            result = await intake.submit_one(tenant_id, body)
        except TenantUnavailable as exc:
            return _error(409, "tenant_unavailable", str(exc))
        headers = {REPLAYED_HEADER: "true"} if result.replayed else None
        return JSONResponse(result.model_dump(mode="json"), status_code=result.http_status, headers=headers)

    @router.post(
        "/events/batch",
        response_model=BatchResult,
        responses=_ERRORS,
        openapi_extra={
            "parameters": _AUTH_HEADERS,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": BATCH_SCHEMA,
                        "example": {"events": [EXAMPLES["transaction"]["value"], EXAMPLES["card"]["value"]]},
                    }
                },
            },
        },
        summary="Send up to 1,000 events",
    )
    async def post_batch(request: Request, tenant_id: str = tenant_dependency) -> Response:
        """Each event is judged on its own: `results[i]` answers `events[i]` with its status."""
        body = await _json(request)
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            return _error(400, "bad_request", 'the body must be {"events": [...]}')
        if not events or len(events) > MAX_BATCH:
            return _error(400, "bad_request", f"a batch holds 1 to {MAX_BATCH} events")
        try:
            results = await intake.submit(tenant_id, events)
        except TenantUnavailable as exc:
            return _error(409, "tenant_unavailable", str(exc))
        accepted = sum(result.status == "accepted" for result in results)
        batch = BatchResult(accepted=accepted, rejected=len(results) - accepted, results=results)
        return JSONResponse(batch.model_dump(mode="json"))

    @router.get(
        "/events/{event_id}",
        response_model=EventResult,
        responses={**_ERRORS, 404: {"model": ErrorBody}},
        openapi_extra={"parameters": _AUTH_HEADERS},
        summary="The answer an accepted event got",
    )
    async def get_event(event_id: str, tenant_id: str = tenant_dependency) -> Response:
        found = await intake.stored(tenant_id, event_id)
        if found is None:
            return _error(404, "not_found", "no accepted event with this id")
        return JSONResponse(found.model_dump(mode="json"))

    @router.get(
        "/confirmations/{confirmation_id}",
        responses={**_ERRORS, 404: {"model": ErrorBody}},
        openapi_extra={"parameters": _AUTH_HEADERS},
        summary="A confirmation's state and evidence (the body of the confirmation.decided callback)",
    )
    async def get_confirmation(confirmation_id: str, tenant_id: str = tenant_dependency) -> Response:
        async with db.sessions() as session:
            row = await session.get(Confirmation, confirmation_id)
            if row is None or row.tenant_id != tenant_id:
                return _error(404, "not_found", "no such confirmation")
            return JSONResponse(await confirmations.status(session, row))

    if notices is not None:
        add_notice_routes(
            router,
            tenant_dependency,
            notices,
            auth_headers=_AUTH_HEADERS,
            errors=_ERRORS,
            request_schema=_inline(NoticeRequest.model_json_schema()),
        )
    return router


class _Stop(Exception):
    """Carries an early response out of a dependency (FastAPI would otherwise wrap it)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class _EventsRoute(APIRoute):
    """Turns a `_Stop` raised by the signature check into its response (a router cannot register
    exception handlers; those belong to the app)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except _Stop as stop:
                return stop.response

        return route


def _register(dependency: Callable[..., Any]) -> None:
    """Declare the signature check to the staff route registry (docs/permissions.md), if present."""
    try:
        from loket.staff.web.deps import REGISTRY, Requirement
    except ImportError:
        return
    REGISTRY[dependency] = Requirement("api_key", "events:write")
