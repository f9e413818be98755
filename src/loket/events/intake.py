"""Taking events in: authenticate, validate each one, answer replays with their first answer, resolve
the customer, act, and store the event with its answer, all in one transaction.

A batch is judged event by event: the good ones are accepted and each bad one gets its own error
(422 invalid or unknown customer or account, 409 an id reused for different content, 503 the core
system could not say who the customer is). Only accepted events are stored, so a corrected event
may be sent again under the same id.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.alerts.compose import Audience
from loket.alerts.preferences import AlertPreferences
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.scope import SystemReason, system_scope
from loket.db.upsert import insert_ignore
from loket.events.confirming import DEFAULT_HIGH_VALUE
from loket.events.customers import CoreUnavailable, CustomerDirectory, KnownCustomer
from loket.events.endpoints import EndpointStore
from loket.events.handlers import AnyEvent, EventHandlers, EventRejected, Target
from loket.events.schemas import EVENT_TYPES, Event, EventError, EventResult
from loket.events.signing import SignatureError, verify
from loket.events.tables import InstitutionEvent
from loket.i18n.catalog import normalise_language
from loket.outbound.outbox import enqueue_many
from loket.tenancy.directory import PhoneDirectory, TenantInfo

ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(Event)
GROUP_MAX = 500


class AuthError(Exception):
    """401: the request is not from the tenant it names (or is too old)."""


class TenantUnavailable(Exception):
    """409: the tenant is not active or has no active WhatsApp number."""


@dataclass(frozen=True, slots=True)
class _Valid:
    index: int
    event: AnyEvent
    digest: str


def _rejected(
    index: int | None, event_id: str | None, status: int, code: str, message: str, field: str | None = None
) -> EventResult:
    return EventResult(
        index=index,
        id=event_id,
        status="rejected",
        http_status=status,
        error=EventError(code=code, message=message, field=field),
    )


def _describe(exc: ValidationError) -> tuple[str, str | None]:
    first = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in first.get("loc", ()) if not str(part).startswith(("function-", "tagged")))
    # The discriminated union puts the type in the path: drop it so `data.amount` reads as such.
    for kind in EVENT_TYPES:
        if field == kind or field.startswith(kind + "."):
            field = field[len(kind) + 1 :]
            break
    return str(first.get("msg", "invalid")), field or None


def _raw_id(raw: object) -> str | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    return value[:100] if isinstance(value, str) else None


class EventIntake:
    def __init__(
        self,
        db: Database,
        directory: PhoneDirectory,
        endpoints: EndpointStore,
        customers: CustomerDirectory,
        handlers: EventHandlers,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._db = db
        self._directory = directory
        self.endpoints = endpoints
        self._customers = customers
        self._handlers = handlers
        self._clock = clock
        self._pending: list[tuple[str, object, asyncio.Future[EventResult]]] = []
        self._grouper: asyncio.Task[None] | None = None

    async def authenticate(self, tenant_id: str | None, header: str | None, body: bytes) -> str:
        if not tenant_id or len(tenant_id) > 64:
            raise AuthError("missing X-Loket-Tenant header")
        endpoint = await self.endpoints.get(tenant_id)
        if endpoint is None:
            raise AuthError("no events signing secret is set up for this tenant")
        try:
            verify(header, body, endpoint.secrets, self._clock.now())
        except SignatureError as exc:
            raise AuthError(str(exc)) from None
        return tenant_id

    async def _tenant(self, tenant_id: str) -> tuple[TenantInfo, str]:
        tenant = await self._directory.tenant(tenant_id)
        if tenant is None or tenant.status != "active":
            raise TenantUnavailable("the tenant is not active")
        numbers = sorted(
            n.phone_number_id
            for n in await self._directory.numbers()
            if n.tenant_id == tenant_id and n.status == "active"
        )
        if not numbers:
            raise TenantUnavailable("the tenant has no active WhatsApp number")
        return tenant, numbers[0]

    async def submit_one(self, tenant_id: str, item: object) -> EventResult:
        """One event, taken in a group with the others arriving at the same moment: one transaction
        (and one commit) for all of them, as the webhook's group commit does (ADR 0001)."""
        future: asyncio.Future[EventResult] = asyncio.get_running_loop().create_future()
        self._pending.append((tenant_id, item, future))
        if self._grouper is None or self._grouper.done():
            # One group holds several institutions' events, each under the tenant its request proved:
            # the task must not inherit the scope of whichever request happened to start it.
            with system_scope(SystemReason.EVENTS_INTAKE):
                self._grouper = asyncio.create_task(self._group(), name="events-group-commit")
        return await future

    async def _group(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # requests that arrived meanwhile join this group
            group, self._pending = self._pending[:GROUP_MAX], self._pending[GROUP_MAX:]
            by_tenant: dict[str, list[tuple[object, asyncio.Future[EventResult]]]] = {}
            for tenant_id, item, future in group:
                by_tenant.setdefault(tenant_id, []).append((item, future))
            for tenant_id, members in by_tenant.items():
                try:
                    results = await self.submit(tenant_id, [item for item, _ in members])
                except Exception as exc:  # every member gets the failure; none is left waiting
                    for _, future in members:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(members, results, strict=True):
                    if not future.done():
                        future.set_result(result.model_copy(update={"index": None}))

    async def submit(self, tenant_id: str, items: Sequence[object]) -> list[EventResult]:
        tenant, phone_number_id = await self._tenant(tenant_id)
        results: list[EventResult | None] = [None] * len(items)
        valid: list[_Valid] = []
        first_of: dict[str, _Valid] = {}
        echoes: list[tuple[int, _Valid]] = []
        for index, raw in enumerate(items):
            try:
                event = ADAPTER.validate_python(raw)
            except ValidationError as exc:
                message, field = _describe(exc)
                results[index] = _rejected(index, _raw_id(raw), 422, "invalid_event", message, field)
                continue
            digest = hashlib.sha256(
                orjson.dumps(event.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
            ).hexdigest()
            item = _Valid(index, event, digest)
            earlier = first_of.get(event.id)
            if earlier is None:
                first_of[event.id] = item
                valid.append(item)
            elif earlier.digest == digest:
                echoes.append((index, earlier))
            else:
                results[index] = _rejected(
                    index, event.id, 409, "id_reused", "the same id twice with different content"
                )
        lost: list[_Valid] = []
        if valid:
            async with self._db.transaction() as session:
                lost = await self._process(session, tenant, phone_number_id, valid, results)
        if lost:
            stored = await self._stored(tenant_id, [item.event.id for item in lost])
            for item in lost:
                results[item.index] = self._replay(item, stored.get(item.event.id))
        for index, earlier in echoes:
            first = results[earlier.index]
            assert first is not None
            results[index] = first.model_copy(update={"index": index, "replayed": first.status == "accepted"})
        return [result for result in results if result is not None]

    async def _process(
        self,
        session: AsyncSession,
        tenant: TenantInfo,
        phone_number_id: str,
        valid: list[_Valid],
        results: list[EventResult | None],
    ) -> list[_Valid]:
        tenant_id = tenant.tenant_id
        existing = await self._existing(session, tenant_id, [item.event.id for item in valid])
        fresh: list[_Valid] = []
        for item in valid:
            if item.event.id in existing:
                results[item.index] = self._replay(item, existing[item.event.id])
            else:
                fresh.append(item)
        if not fresh:
            return []
        try:
            customers = await self._customers.resolve(
                session, self._db.dialect, tenant_id, [item.event.customer_id for item in fresh]
            )
        except CoreUnavailable:
            for item in fresh:
                results[item.index] = _rejected(
                    item.index, item.event.id, 503, "core_unavailable", "the core system did not answer; send it again"
                )
            return []
        rows: list[dict[str, Any]] = []
        outbox: list[dict[str, Any]] = []
        accepted: dict[str, _Valid] = {}
        now = self._clock.now()
        for item in fresh:
            event = item.event
            customer = customers.get(event.customer_id)
            if customer is None:
                results[item.index] = _rejected(
                    item.index, event.id, 422, "unknown_customer", "the institution has no such customer", "customer_id"
                )
                continue
            target = self._target(tenant, phone_number_id, customer)
            queued = len(outbox)
            try:
                outcome = await self._handlers.handle(session, target, event, outbox)
            except EventRejected as exc:
                del outbox[queued:]
                results[item.index] = _rejected(item.index, event.id, exc.status, exc.code, str(exc), exc.field)
                continue
            result = EventResult(index=item.index, id=event.id, status="accepted", http_status=202, outcome=outcome)
            results[item.index] = result
            accepted[event.id] = item
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "event_id": event.id,
                    "kind": event.type,
                    "body_sha256": item.digest,
                    "customer_id": event.customer_id,
                    "received_at": now,
                    "status_code": 202,
                    "result": result.model_dump(mode="json", exclude={"index"}),
                }
            )
        if not rows:
            return []
        await enqueue_many(session, self._db.dialect, outbox)
        inserted = set(
            (
                await session.execute(
                    insert_ignore(self._db.dialect, InstitutionEvent, "tenant_id", "event_id").returning(
                        InstitutionEvent.event_id
                    ),
                    rows,
                )
            ).scalars()
        )
        # Lost a race with the same event on another connection: its answer is the first one.
        return [item for event_id, item in accepted.items() if event_id not in inserted]

    def _target(self, tenant: TenantInfo, phone_number_id: str, customer: KnownCustomer) -> Target:
        channels = tenant.official_channels
        call_centres = channels.get("call_centre_numbers") or [""]
        language = normalise_language(customer.chosen_language or customer.language or tenant.default_language)
        high_value = channels.get("confirmation_step_up_amount")
        return Target(
            tenant_id=tenant.tenant_id,
            phone_number_id=phone_number_id,
            customer=customer,
            audience=Audience(language, customer.zone, tenant.display_name, str(call_centres[0])),
            prefs=customer.prefs or AlertPreferences(),
            high_value=int(high_value) if isinstance(high_value, int) else DEFAULT_HIGH_VALUE,
        )

    def _replay(self, item: _Valid, stored: tuple[str, dict[str, Any]] | None) -> EventResult:
        if stored is None:
            return _rejected(
                item.index, item.event.id, 503, "retry", "a concurrent request with this id; send it again"
            )
        digest, result = stored
        if digest != item.digest:
            return _rejected(
                item.index, item.event.id, 409, "id_reused", "this id was used for an event with other content"
            )
        return EventResult.model_validate(result).model_copy(update={"index": item.index, "replayed": True})

    @staticmethod
    async def _existing(session: AsyncSession, tenant_id: str, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        for start in range(0, len(ids), 500):
            rows = await session.execute(
                select(InstitutionEvent.event_id, InstitutionEvent.body_sha256, InstitutionEvent.result).where(
                    InstitutionEvent.tenant_id == tenant_id, InstitutionEvent.event_id.in_(ids[start : start + 500])
                )
            )
            found.update({event_id: (digest, result) for event_id, digest, result in rows})
        return found

    async def _stored(self, tenant_id: str, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        async with self._db.sessions() as session:
            return await self._existing(session, tenant_id, ids)

    async def stored(self, tenant_id: str, event_id: str) -> EventResult | None:
        found = (await self._stored(tenant_id, [event_id])).get(event_id)
        return EventResult.model_validate(found[1]) if found else None
