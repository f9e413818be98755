"""The demo institutions' core systems: CorePort in memory over generated data.

Besides CorePort, the demo plays the institution's own mobile app for step-up confirmation:
`pending_step_ups` and `decide_step_up` are what the customer's app would call.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from loket.clock import Clock
from loket.core.demo.generator import DEFAULT_SEED, DemoData, generate_demo_data
from loket.core.demo.tenants import DEMO_TENANTS, DemoTenant
from loket.core.port import (
    Account,
    Card,
    CardBlock,
    CardStatus,
    Conflict,
    Customer,
    InvalidRequest,
    NotFound,
    Policy,
    StepUpRequest,
    StepUpStatus,
    Transaction,
    TransactionHold,
)

MAX_STEP_UP_TTL_SECONDS = 15 * 60
MAX_ACTION_LENGTH = 200
_JAKARTA = ZoneInfo("Asia/Jakarta")
_PHONE_SEPARATORS = re.compile(r"[\s\-.()/]")


class UnknownTenant(NotFound):
    pass


class StepUpClosed(Conflict):
    """The step-up request can no longer be decided: it expired or was decided already."""


def normalise_phone(raw: str) -> str | None:
    """E.164 from the ways Indonesians write a number: +62…, 62…, 0…, with spaces, dots or dashes.

    Returns None when `raw` is not a phone number at all.
    """
    digits = _PHONE_SEPARATORS.sub("", raw.strip())
    if digits.startswith("+"):
        digits = digits[1:]
        if digits.startswith("620"):  # "+62 (0)812…"
            digits = "62" + digits[3:]
    elif digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    if not digits.isdigit() or not 8 <= len(digits) <= 15:
        return None
    return "+" + digits


class DemoCore:
    def __init__(self, data: DemoData, clock: Clock, tenants: Iterable[DemoTenant] = DEMO_TENANTS) -> None:
        self.data = data
        self._clock = clock
        self._tenants = {t.tenant_id: t for t in tenants}
        self._customers: dict[tuple[str, str], Customer] = {}
        self._by_phone: dict[tuple[str, str], str] = {}
        for c in data.customers:
            self._customers[c.tenant_id, c.customer_id] = c
            self._by_phone[c.tenant_id, c.phone_e164] = c.customer_id
        owner = {c.customer_id: c.tenant_id for c in data.customers}
        self._accounts: dict[tuple[str, str], Account] = {
            (owner[a.customer_id], a.account_id): a for a in data.accounts
        }
        self._cards: dict[tuple[str, str], Card] = {(owner[c.customer_id], c.card_id): c for c in data.cards}
        self._policies: dict[str, list[Policy]] = defaultdict(list)
        for p in data.policies:
            self._policies[p.customer_id].append(p)
        self._transactions: dict[str, list[Transaction]] = defaultdict(list)
        for t in data.transactions:
            self._transactions[t.account_id].append(t)
        for postings in self._transactions.values():
            postings.sort(key=lambda t: t.posted_at)
        self._times = {a: [t.posted_at for t in ts] for a, ts in self._transactions.items()}
        self._blocks: dict[tuple[str, str], CardBlock] = {}
        self._step_ups: dict[tuple[str, str], StepUpRequest] = {}
        self._holds: dict[tuple[str, str], TransactionHold] = {}

    @classmethod
    def generate(cls, clock: Clock, *, seed: int = DEFAULT_SEED, as_of: date | None = None) -> DemoCore:
        """Demo data as of `as_of`, by default today in Jakarta by `clock`."""
        day = as_of or clock.now().astimezone(_JAKARTA).date()
        return cls(generate_demo_data(as_of=day, seed=seed), clock)

    # Lookups

    def tenant(self, tenant_id: str) -> DemoTenant:
        try:
            return self._tenants[tenant_id]
        except KeyError:
            raise UnknownTenant(f"unknown tenant {tenant_id!r}") from None

    async def customers(self, tenant_id: str) -> list[Customer]:
        self.tenant(tenant_id)
        found = [c for (tid, _), c in self._customers.items() if tid == tenant_id]
        return sorted(found, key=lambda c: (c.full_name, c.customer_id))

    async def find_customer_by_phone(self, tenant_id: str, phone_e164: str) -> Customer | None:
        self.tenant(tenant_id)
        phone = normalise_phone(phone_e164)
        customer_id = self._by_phone.get((tenant_id, phone)) if phone else None
        return self._customers[tenant_id, customer_id] if customer_id else None

    async def get_customer(self, tenant_id: str, customer_id: str) -> Customer:
        self.tenant(tenant_id)
        try:
            return self._customers[tenant_id, customer_id]
        except KeyError:
            raise NotFound(f"unknown customer {customer_id!r}") from None

    async def list_accounts(self, tenant_id: str, customer_id: str) -> list[Account]:
        await self.get_customer(tenant_id, customer_id)
        return [a for (tid, _), a in self._accounts.items() if tid == tenant_id and a.customer_id == customer_id]

    async def list_transactions(
        self, tenant_id: str, account_id: str, start: datetime, end: datetime
    ) -> list[Transaction]:
        self.tenant(tenant_id)
        if (tenant_id, account_id) not in self._accounts:
            raise NotFound(f"unknown account {account_id!r}")
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidRequest("start and end must be timezone-aware")
        if start > end:
            raise InvalidRequest("start is after end")
        times = self._times.get(account_id, [])
        lo, hi = bisect.bisect_left(times, start), bisect.bisect_left(times, end)
        return self._transactions[account_id][lo:hi]

    async def list_cards(self, tenant_id: str, customer_id: str) -> list[Card]:
        await self.get_customer(tenant_id, customer_id)
        return [c for (tid, _), c in self._cards.items() if tid == tenant_id and c.customer_id == customer_id]

    async def list_policies(self, tenant_id: str, customer_id: str) -> list[Policy]:
        await self.get_customer(tenant_id, customer_id)
        return list(self._policies.get(customer_id, []))

    # Actions

    async def block_card(self, tenant_id: str, card_id: str, reason: str) -> CardBlock:
        """Idempotent: blocking a blocked card answers with the original block."""
        self.tenant(tenant_id)
        card = self._cards.get((tenant_id, card_id))
        if card is None:
            raise NotFound(f"unknown card {card_id!r}")
        if not reason.strip():
            raise InvalidRequest("a reason is required to block a card")
        if existing := self._blocks.get((tenant_id, card_id)):
            return existing
        now = self._clock.now()
        block = CardBlock(card_id, f"BLK-{now:%Y%m%d}-{secrets.token_hex(4).upper()}", now)
        self._blocks[tenant_id, card_id] = block
        self._cards[tenant_id, card_id] = dataclasses.replace(card, status=CardStatus.BLOCKED)
        return block

    async def hold_transaction(
        self, tenant_id: str, transaction_ref: str, reason: str, *, account_id: str | None = None
    ) -> TransactionHold:
        """Idempotent. The demo ledger has no pending authorisations, so any reference is held once
        the account (when named) is known; a posted transaction must belong to that account."""
        self.tenant(tenant_id)
        if not transaction_ref.strip() or len(transaction_ref) > 64:
            raise InvalidRequest("a transaction reference of 1 to 64 characters is required")
        if not reason.strip():
            raise InvalidRequest("a reason is required to hold a transaction")
        if account_id is not None:
            if (tenant_id, account_id) not in self._accounts:
                raise NotFound(f"unknown account {account_id!r}")
            owner = next(
                (a for a, ts in self._transactions.items() if any(t.transaction_id == transaction_ref for t in ts)),
                None,
            )
            if owner is not None and owner != account_id:
                raise Conflict(f"transaction {transaction_ref!r} is not on account {account_id!r}")
        if existing := self._holds.get((tenant_id, transaction_ref)):
            return existing
        now = self._clock.now()
        hold = TransactionHold(transaction_ref, f"HLD-{now:%Y%m%d}-{secrets.token_hex(4).upper()}", now, account_id)
        self._holds[tenant_id, transaction_ref] = hold
        return hold

    def holds(self, tenant_id: str) -> list[TransactionHold]:
        """Every hold of the tenant (the demo's own view, for the sandbox and tests)."""
        return [h for (tid, _), h in self._holds.items() if tid == tenant_id]

    async def request_step_up(self, tenant_id: str, customer_id: str, action: str, ttl_seconds: int) -> StepUpRequest:
        await self.get_customer(tenant_id, customer_id)
        if not action.strip() or len(action) > MAX_ACTION_LENGTH:
            raise InvalidRequest(f"action must be 1 to {MAX_ACTION_LENGTH} characters")
        if not 0 < ttl_seconds <= MAX_STEP_UP_TTL_SECONDS:
            raise InvalidRequest(f"ttl_seconds must be between 1 and {MAX_STEP_UP_TTL_SECONDS}")
        now = self._clock.now()
        request = StepUpRequest(
            request_id=f"SU-{secrets.token_hex(8).upper()}",
            tenant_id=tenant_id,
            customer_id=customer_id,
            action=action.strip(),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
            status=StepUpStatus.PENDING,
        )
        self._step_ups[tenant_id, request.request_id] = request
        return request

    async def get_step_up(self, tenant_id: str, request_id: str) -> StepUpRequest:
        self.tenant(tenant_id)
        request = self._step_ups.get((tenant_id, request_id))
        if request is None:
            raise NotFound(f"unknown step-up request {request_id!r}")
        if request.status is StepUpStatus.PENDING and self._clock.now() >= request.expires_at:
            request = dataclasses.replace(request, status=StepUpStatus.EXPIRED)
            self._step_ups[tenant_id, request_id] = request
        return request

    # What the institution's app does

    async def pending_step_ups(self, tenant_id: str, customer_id: str | None = None) -> list[StepUpRequest]:
        """Requests still awaiting the customer's decision, oldest first."""
        if customer_id is not None:
            await self.get_customer(tenant_id, customer_id)
        else:
            self.tenant(tenant_id)
        found = []
        for (tid, request_id), request in list(self._step_ups.items()):
            if tid != tenant_id or (customer_id is not None and request.customer_id != customer_id):
                continue
            current = await self.get_step_up(tenant_id, request_id)
            if current.status is StepUpStatus.PENDING:
                found.append(current)
        return sorted(found, key=lambda r: r.created_at)

    async def decide_step_up(self, tenant_id: str, request_id: str, approve: bool) -> StepUpRequest:
        """The customer approves or rejects in the app; a request is decided once, before it expires."""
        request = await self.get_step_up(tenant_id, request_id)
        if request.status is StepUpStatus.EXPIRED:
            raise StepUpClosed(f"step-up request {request_id} expired at {request.expires_at.isoformat()}")
        if request.status is not StepUpStatus.PENDING:
            raise StepUpClosed(f"step-up request {request_id} was already {request.status.value}")
        decided = dataclasses.replace(
            request,
            status=StepUpStatus.APPROVED if approve else StepUpStatus.REJECTED,
            decided_at=self._clock.now(),
        )
        self._step_ups[tenant_id, request_id] = decided
        return decided
