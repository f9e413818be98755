"""`POST /v1/notices` and `GET /v1/notices/{id}`: account notices to a segment of a tenant's
customers, signed like the events API (loket.outbound.notices does the work)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from loket.outbound.notice_request import NoticeRejected, NoticeRequest, parse_request
from loket.outbound.notices import NoticeService

REPLAYED_HEADER = "Idempotent-Replayed"


class NoticeProgress(BaseModel):
    queued: int
    waiting: int
    sent: int
    delivered: int
    read: int
    failed: int


class NoticeStatus(BaseModel):
    """A notice and its progress. `state`: `fanning_out` while messages are being queued, `queued`
    once all are, `done` once none is waiting."""

    id: str
    notice_id: str
    kind: str
    state: str
    segment: dict[str, Any]
    created_at: str
    fanned_out_at: str | None
    customers_considered: int
    recipients: int
    progress: NoticeProgress


class NoticeError(BaseModel):
    error: dict[str, str | None]


_STATUS_EXAMPLE = {
    "id": "fees-2027-01",
    "notice_id": "ntc_4f0c2a9d81b3e6a7c5d2",
    "kind": "fees",
    "state": "queued",
    "segment": {"products": ["Tabungan Nusantara"], "zones": ["Asia/Jakarta", "Asia/Makassar"]},
    "created_at": "2026-11-29T03:00:00+00:00",
    "fanned_out_at": "2026-11-29T03:00:04+00:00",
    "customers_considered": 12000,
    "recipients": 8450,
    "progress": {"queued": 8450, "waiting": 3120, "sent": 5300, "delivered": 5012, "read": 2210, "failed": 30},
}


_MAINTENANCE = {
    "id": "maint-2026-12-06",
    "kind": "maintenance",
    "content": {
        "id": {
            "title": "Pemeliharaan",
            "body": "Sabtu 6 Desember 01.00-03.00 WIB transfer dan QRIS tidak dapat dipakai.",
        }
    },
}


def _error(exc: NoticeRejected) -> JSONResponse:
    body = {"error": {"code": exc.code, "message": str(exc), "field": exc.field}}
    return JSONResponse(body, status_code=exc.status)


def add_notice_routes(
    router: APIRouter,
    tenant: Any,
    notices: NoticeService,
    *,
    auth_headers: list[dict[str, Any]],
    errors: dict[int | str, dict[str, Any]],
    request_schema: dict[str, Any],
) -> None:
    """Adds the routes to the events router, behind its signature check `tenant` (a `Depends`)."""

    @router.post(
        "/notices",
        status_code=202,
        response_model=NoticeStatus,
        responses={
            **errors,
            202: {"content": {"application/json": {"example": _STATUS_EXAMPLE}}},
            409: {"model": NoticeError, "description": "The tenant is unusable, or the id was used for other content"},
            422: {"model": NoticeError, "description": "The notice is not of the documented shape"},
        },
        openapi_extra={
            "parameters": auth_headers,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": request_schema,
                        "examples": {
                            "fees": {
                                "summary": "A fee change to savings customers in WIB and WITA",
                                "value": NoticeRequest.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
                            },
                            "maintenance": {"summary": "A maintenance window, to everyone", "value": _MAINTENANCE},
                        },
                    }
                },
            },
        },
        summary="Send an account notice to all or a segment of the tenant's customers",
    )
    async def post_notice(request: Request, tenant_id: str = tenant) -> Response:
        """Idempotent by `id`: the same notice again answers with its progress (`Idempotent-Replayed:
        true`); the same id with other content is `409 id_reused`. The messages are queued in the
        background, in batches; follow them with `GET /v1/notices/{id}`."""
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return JSONResponse({"error": {"code": "bad_request", "message": "the body is not JSON"}}, 400)
        try:
            campaign, replayed = await notices.create(tenant_id, parse_request(body), by="api")
        except NoticeRejected as exc:
            return _error(exc)
        headers = {REPLAYED_HEADER: "true"} if replayed else None
        return JSONResponse(await notices.status(campaign), status_code=202, headers=headers)

    @router.get(
        "/notices/{notice_id}",
        response_model=NoticeStatus,
        responses={
            **errors,
            200: {"content": {"application/json": {"example": _STATUS_EXAMPLE}}},
            404: {"model": NoticeError},
        },
        openapi_extra={"parameters": auth_headers},
        summary="A notice's progress: queued, sent, delivered, read and failed messages",
    )
    async def get_notice(notice_id: str, tenant_id: str = tenant) -> Response:
        campaign = await notices.get(tenant_id, notice_id)
        if campaign is None:
            return JSONResponse({"error": {"code": "not_found", "message": "no notice with this id"}}, 404)
        return JSONResponse(await notices.status(campaign))
