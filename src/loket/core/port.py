"""CorePort: what Loket asks of an institution's core systems (core banking, policy admin).

Loket never stores the institution's ledger; it asks for it through this port. Adapters: the
built-in demo institution (`loket.core.demo`) and, later, an HTTP adapter for real core systems.
Amounts are whole rupiah (IDR has no minor unit in practice).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol


class InstitutionKind(enum.StrEnum):
    BANK = "bank"
    INSURER = "insurer"
    LENDER = "lender"


class AccountKind(enum.StrEnum):
    SAVINGS = "savings"
    CURRENT = "current"


class CardKind(enum.StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class CardStatus(enum.StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"


class StepUpStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    tenant_id: str
    full_name: str
    phone_e164: str  # the number registered with the institution, e.g. "+6281234567890"
    language: str  # "id" or "en"
    province: str
    timezone: str  # IANA name: Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT)
    date_of_birth: date
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    customer_id: str
    kind: AccountKind
    number: str  # full account number; callers mask it before showing
    product_name: str
    currency: str
    balance: int
    available_balance: int


@dataclass(frozen=True, slots=True)
class Transaction:
    transaction_id: str
    account_id: str
    posted_at: datetime  # timezone-aware
    amount: int  # signed: credit positive, debit negative
    description: str
    category: str  # salary, qris, transfer_in, transfer_out, bill, ewallet, atm, fee, interest, ...
    counterparty: str | None
    merchant_code: str | None  # ISO 18245 MCC where known
    balance_after: int


@dataclass(frozen=True, slots=True)
class Card:
    card_id: str
    customer_id: str
    kind: CardKind
    masked_number: str  # "5264 **** **** 1234"
    product_name: str
    status: CardStatus
    linked_account_id: str | None = None


@dataclass(frozen=True, slots=True)
class CardBlock:
    card_id: str
    reference: str
    blocked_at: datetime


@dataclass(frozen=True, slots=True)
class TransactionHold:
    """The core stopped a pending or just-posted transaction while it is investigated."""

    transaction_ref: str
    reference: str  # the core's own reference of the hold, for the customer and the audit
    held_at: datetime
    account_id: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    claim_id: str
    policy_id: str
    submitted_on: date
    status: str  # submitted, in_review, approved, paid, rejected
    amount_claimed: int
    amount_approved: int | None
    description: str


@dataclass(frozen=True, slots=True)
class Policy:
    policy_id: str
    customer_id: str
    product_name: str
    kind: str  # motor, health, life, property
    policy_number: str
    status: str  # active, lapsed
    sum_insured: int
    premium: int
    premium_frequency: str  # monthly, yearly
    start_date: date
    end_date: date
    insured_object: str
    claims: tuple[Claim, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class StepUpRequest:
    request_id: str
    tenant_id: str
    customer_id: str
    action: str  # what the customer is about to do, shown in the institution's app
    created_at: datetime
    expires_at: datetime
    status: StepUpStatus
    decided_at: datetime | None = None


class CoreError(Exception):
    """The core system refused or failed; `retryable` tells whether asking again may help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class NotFound(CoreError):
    pass


class InvalidRequest(CoreError):
    """The request itself is wrong (a bad argument); asking again unchanged cannot help."""


class Conflict(CoreError):
    """The request clashes with the resource's current state, e.g. deciding a step-up twice."""


class CorePort(Protocol):
    async def find_customer_by_phone(self, tenant_id: str, phone_e164: str) -> Customer | None: ...

    async def get_customer(self, tenant_id: str, customer_id: str) -> Customer: ...

    async def list_accounts(self, tenant_id: str, customer_id: str) -> list[Account]: ...

    async def list_transactions(
        self, tenant_id: str, account_id: str, start: datetime, end: datetime
    ) -> list[Transaction]:
        """Transactions posted in [start, end), oldest first."""
        ...

    async def list_cards(self, tenant_id: str, customer_id: str) -> list[Card]: ...

    async def block_card(self, tenant_id: str, card_id: str, reason: str) -> CardBlock: ...

    async def hold_transaction(
        self, tenant_id: str, transaction_ref: str, reason: str, *, account_id: str | None = None
    ) -> TransactionHold:
        """Hold a pending or just-posted transaction the customer says is not theirs. Idempotent:
        holding it again answers with the original hold."""
        ...

    async def list_policies(self, tenant_id: str, customer_id: str) -> list[Policy]: ...

    async def request_step_up(self, tenant_id: str, customer_id: str, action: str, ttl_seconds: int) -> StepUpRequest:
        """Ask the institution's app to confirm the customer; never travels as a chat message."""
        ...

    async def get_step_up(self, tenant_id: str, request_id: str) -> StepUpRequest: ...
