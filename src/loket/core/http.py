"""CorePort over the core HTTP API (docs/core-api.md), for institutions that expose their systems.

Failures are typed for the caller: network trouble, timeouts, 429 and 5xx raise
`CoreError(retryable=True)`; 404 raises `NotFound`; 409 `Conflict`; 400/422 `InvalidRequest`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import TypeAdapter, ValidationError
from yarl import URL

from loket.core import wire
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

log = logging.getLogger(__name__)
T = TypeVar("T")


class HttpCore:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout_seconds: float = 10.0,
        connect_timeout_seconds: float = 3.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """`base_url` is where the API is mounted, e.g. "https://core.example.co.id/loket"."""
        self._base = base_url.rstrip("/")
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, sock_connect=connect_timeout_seconds)
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> HttpCore:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    # CorePort

    async def find_customer_by_phone(self, tenant_id: str, phone_e164: str) -> Customer | None:
        try:
            path = _path(tenant_id, "customers")
            body = await self._call("GET", path, params={"phone": phone_e164}, lookup=True)
        except _CustomerMissing:
            return None
        return _parse(wire.CUSTOMER, body)

    async def get_customer(self, tenant_id: str, customer_id: str) -> Customer:
        return _parse(wire.CUSTOMER, await self._call("GET", _path(tenant_id, "customers", customer_id)))

    async def list_accounts(self, tenant_id: str, customer_id: str) -> list[Account]:
        body = await self._call("GET", _path(tenant_id, "customers", customer_id, "accounts"))
        return _parse(wire.ACCOUNTS, body).items

    async def list_transactions(
        self, tenant_id: str, account_id: str, start: datetime, end: datetime
    ) -> list[Transaction]:
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidRequest("start and end must be timezone-aware")
        params = {"start": _iso(start), "end": _iso(end)}
        body = await self._call("GET", _path(tenant_id, "accounts", account_id, "transactions"), params=params)
        items = _parse(wire.TRANSACTIONS, body).items
        for t in items:
            _require_aware(t.posted_at)
        return items

    async def list_cards(self, tenant_id: str, customer_id: str) -> list[Card]:
        body = await self._call("GET", _path(tenant_id, "customers", customer_id, "cards"))
        return _parse(wire.CARDS, body).items

    async def block_card(self, tenant_id: str, card_id: str, reason: str) -> CardBlock:
        body = await self._call("POST", _path(tenant_id, "cards", card_id, "block"), json={"reason": reason})
        block = _parse(wire.CARD_BLOCK, body)
        _require_aware(block.blocked_at)
        return block

    async def hold_transaction(
        self, tenant_id: str, transaction_ref: str, reason: str, *, account_id: str | None = None
    ) -> TransactionHold:
        payload: dict[str, Any] = {"reason": reason}
        if account_id is not None:
            payload["account_id"] = account_id
        body = await self._call("POST", _path(tenant_id, "transactions", transaction_ref, "hold"), json=payload)
        hold = _parse(wire.TRANSACTION_HOLD, body)
        _require_aware(hold.held_at)
        return hold

    async def list_policies(self, tenant_id: str, customer_id: str) -> list[Policy]:
        body = await self._call("GET", _path(tenant_id, "customers", customer_id, "policies"))
        return _parse(wire.POLICIES, body).items

    async def request_step_up(self, tenant_id: str, customer_id: str, action: str, ttl_seconds: int) -> StepUpRequest:
        payload = {"customer_id": customer_id, "action": action, "ttl_seconds": ttl_seconds}
        return _step_up(await self._call("POST", _path(tenant_id, "step-ups"), json=payload))

    async def get_step_up(self, tenant_id: str, request_id: str) -> StepUpRequest:
        return _step_up(await self._call("GET", _path(tenant_id, "step-ups", request_id)))

    # Transport

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        lookup: bool = False,
    ) -> bytes:
        url = URL(self._base + path, encoded=True)
        try:
            async with self._client().request(
                method, url, params=params, json=json, headers=self._headers, timeout=self._timeout
            ) as response:
                body = await response.read()
                status = response.status
        except TimeoutError as exc:
            raise CoreError(f"core timed out on {method} {_shape(path)}", retryable=True) from exc
        except aiohttp.ClientError as exc:
            raise CoreError(
                f"core unreachable on {method} {_shape(path)}: {type(exc).__name__}", retryable=True
            ) from exc
        if 200 <= status < 300:
            return body
        log.info("core answered %s to %s %s", status, method, _shape(path))
        raise _error(status, body, lookup=lookup)


def _shape(path: str) -> str:
    """The path with its identifiers blanked: customer, account and card numbers never reach a log."""
    return "/".join("{id}" if sum(c.isdigit() for c in part) >= 4 else part for part in path.split("/"))


class _CustomerMissing(NotFound):
    """A phone lookup found nobody, as opposed to an unknown tenant."""


def _path(tenant_id: str, *segments: str) -> str:
    parts = ("v1", "tenants", tenant_id, *segments)
    return "/" + "/".join(quote(p, safe="") for p in parts)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(adapter: TypeAdapter[T], body: bytes) -> T:
    try:
        return adapter.validate_json(body)
    except ValidationError as exc:
        raise CoreError(f"malformed core response ({exc.error_count()} errors)") from exc


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise CoreError("malformed core response: a timestamp without a timezone")


def _step_up(body: bytes) -> StepUpRequest:
    request = _parse(wire.STEP_UP, body)
    for moment in (request.created_at, request.expires_at, request.decided_at):
        if moment is not None:
            _require_aware(moment)
    return request


def _error(status: int, body: bytes, *, lookup: bool) -> CoreError:
    message, resource = f"core answered HTTP {status}", None
    try:
        detail = wire.ERROR.validate_json(body).error
        message, resource = detail.message, detail.resource
    except ValidationError:
        pass  # not our error shape (a proxy's page, say); the status alone decides
    if status == 404:
        # A phone lookup's 404 means "nobody has that number" unless the tenant itself is unknown.
        if lookup and resource != "tenant":
            return _CustomerMissing(message)
        return NotFound(message)
    if status == 409:
        return Conflict(message)
    if status in (400, 422):
        return InvalidRequest(message)
    if status in (401, 403):
        return CoreError(f"core refused our credentials (HTTP {status})")
    if status in (408, 429) or status >= 500:
        return CoreError(message, retryable=True)
    return CoreError(message)
