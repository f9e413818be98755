"""The demo core over HTTP (docs/core-api.md), for HttpCore and the sandbox's institution-app pane.

Paths are relative to where the router is mounted; the sandbox mounts it at `/core`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import AwareDatetime

from loket.core.demo.institution import DemoCore, UnknownTenant
from loket.core.port import (
    Account,
    Card,
    CardBlock,
    Conflict,
    CoreError,
    Customer,
    InvalidRequest,
    NotFound,
    Policy,
    StepUpRequest,
    Transaction,
    TransactionHold,
)
from loket.core.wire import BlockCardBody, DecisionBody, ErrorBody, ErrorDetail, HoldBody, Items, StepUpBody

log = logging.getLogger(__name__)

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}


def error_response(status: int, code: str, message: str, resource: str | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, resource=resource))
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status)


def _describe(errors: Any) -> str:
    # Location and reason only: the offending input may be a phone number.
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors]
    return "; ".join(parts) or "invalid request"


def _route_class(api_key: str | None) -> type[APIRoute]:
    expected = f"Bearer {api_key}".encode() if api_key else None

    class CoreRoute(APIRoute):
        """Maps CoreErrors and validation errors to the API's error body, which a router cannot
        do with exception handlers (those belong to the app)."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def route(request: Request) -> Response:
                if expected is not None:
                    given = request.headers.get("authorization", "").encode()
                    if not hmac.compare_digest(given, expected):
                        return error_response(401, "unauthorized", "missing or wrong bearer key")
                try:
                    return await handler(request)
                except RequestValidationError as exc:
                    return error_response(422, "invalid_request", _describe(exc.errors()))
                except UnknownTenant as exc:
                    return error_response(404, "not_found", str(exc), resource="tenant")
                except NotFound as exc:
                    return error_response(404, "not_found", str(exc))
                except Conflict as exc:
                    return error_response(409, "conflict", str(exc))
                except InvalidRequest as exc:
                    return error_response(422, "invalid_request", str(exc))
                except CoreError as exc:
                    # The handler's name, not the path: paths carry account and card numbers.
                    log.warning("core error in %s: %s", getattr(handler, "__name__", "core"), type(exc).__name__)
                    status = 503 if exc.retryable else 500
                    return error_response(status, "unavailable" if exc.retryable else "internal", str(exc))

            return route

    return CoreRoute


def build_core_router(core: DemoCore, *, api_key: str | None = None) -> APIRouter:
    """`api_key`, when given, must arrive as `Authorization: Bearer <key>` on every request."""
    router = APIRouter(route_class=_route_class(api_key), responses=_ERROR_RESPONSES, tags=["core"])
    tenant = "/v1/tenants/{tenant_id}"

    @router.get(f"{tenant}/customers")
    async def customers(
        tenant_id: str, phone: Annotated[str | None, Query(min_length=4, max_length=32)] = None
    ) -> Customer | Items[Customer]:
        """With `phone`, the one customer registered with that number (404 when none); without,
        every customer (demo only)."""
        if phone is None:
            return Items[Customer](items=await core.customers(tenant_id))
        found = await core.find_customer_by_phone(tenant_id, phone)
        if found is None:
            raise NotFound("no customer with that phone number")
        return found

    @router.get(f"{tenant}/customers/{{customer_id}}")
    async def customer(tenant_id: str, customer_id: str) -> Customer:
        return await core.get_customer(tenant_id, customer_id)

    @router.get(f"{tenant}/customers/{{customer_id}}/accounts")
    async def accounts(tenant_id: str, customer_id: str) -> Items[Account]:
        return Items[Account](items=await core.list_accounts(tenant_id, customer_id))

    @router.get(f"{tenant}/accounts/{{account_id}}/transactions")
    async def transactions(
        tenant_id: str, account_id: str, start: AwareDatetime, end: AwareDatetime
    ) -> Items[Transaction]:
        """Transactions posted in [start, end), oldest first."""
        return Items[Transaction](items=await core.list_transactions(tenant_id, account_id, start, end))

    @router.get(f"{tenant}/customers/{{customer_id}}/cards")
    async def cards(tenant_id: str, customer_id: str) -> Items[Card]:
        return Items[Card](items=await core.list_cards(tenant_id, customer_id))

    @router.post(f"{tenant}/cards/{{card_id}}/block")
    async def block_card(tenant_id: str, card_id: str, body: BlockCardBody) -> CardBlock:
        """Idempotent: blocking a blocked card answers with the original block."""
        return await core.block_card(tenant_id, card_id, body.reason)

    @router.post(f"{tenant}/transactions/{{transaction_ref}}/hold")
    async def hold_transaction(tenant_id: str, transaction_ref: str, body: HoldBody) -> TransactionHold:
        """Idempotent: holding a held transaction answers with the original hold."""
        return await core.hold_transaction(tenant_id, transaction_ref, body.reason, account_id=body.account_id)

    @router.get(f"{tenant}/customers/{{customer_id}}/policies")
    async def policies(tenant_id: str, customer_id: str) -> Items[Policy]:
        return Items[Policy](items=await core.list_policies(tenant_id, customer_id))

    @router.post(f"{tenant}/step-ups", status_code=201)
    async def request_step_up(tenant_id: str, body: StepUpBody) -> StepUpRequest:
        return await core.request_step_up(tenant_id, body.customer_id, body.action, body.ttl_seconds)

    @router.get(f"{tenant}/step-ups/{{request_id}}")
    async def get_step_up(tenant_id: str, request_id: str) -> StepUpRequest:
        return await core.get_step_up(tenant_id, request_id)

    @router.get(f"{tenant}/step-ups")
    async def pending_step_ups(
        tenant_id: str,
        customer_id: str | None = None,
        status: Literal["pending"] = "pending",
    ) -> Items[StepUpRequest]:
        """For the institution's app (demo only): requests awaiting the customer, oldest first."""
        return Items[StepUpRequest](items=await core.pending_step_ups(tenant_id, customer_id))

    @router.post(f"{tenant}/step-ups/{{request_id}}/decision")
    async def decide_step_up(tenant_id: str, request_id: str, body: DecisionBody) -> StepUpRequest:
        """For the institution's app (demo only); 409 once decided or expired."""
        return await core.decide_step_up(tenant_id, request_id, body.approve)

    return router
