"""The events an institution's systems send, and the answers they get.

Amounts are whole rupiah as JSON integers: `150000`, never `"150.000"` or `150000.0`. Times carry
their offset. Text an institution writes (descriptions, payees, notices) reaches the customer and
goes through the outbound content checks (no request for a PIN or OTP, allow-listed links only).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

MAX_BATCH = 1000
EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Amount = Annotated[int, Field(strict=True, gt=0, le=10**15, description="Whole rupiah, a JSON integer")]
Balance = Annotated[int, Field(strict=True, ge=-(10**15), le=10**15, description="Whole rupiah, may be negative")]
Line = Annotated[str, StringConstraints(min_length=1, max_length=60, strip_whitespace=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TransactionData(_Model):
    account_id: Ref
    transaction_id: Ref
    direction: Literal["debit", "credit"]
    amount: Amount
    currency: Literal["IDR"] = "IDR"
    description: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
    counterparty: Line | None = None
    channel: Line | None = None
    balance_after: Balance | None = None


class BalanceData(_Model):
    account_id: Ref
    balance: Balance
    available_balance: Balance | None = None


class ConfirmationData(_Model):
    amount: Amount
    currency: Literal["IDR"] = "IDR"
    payee: Line
    channel: Line
    expires_at: AwareDatetime
    risk: Literal["low", "medium", "high"]
    account_id: Ref | None = None
    card_id: Ref | None = None
    transaction_ref: Ref | None = None


class CardData(_Model):
    card_id: Ref
    last4: Annotated[str, StringConstraints(pattern=r"^\d{4}$")] | None = None
    status: Literal["active", "blocked", "frozen", "expired", "replaced"]
    reason: Line | None = None


class NoticeData(_Model):
    notice: Literal["terms_change", "fee_change", "maintenance", "other"]
    title: Line
    body: Annotated[str, StringConstraints(min_length=1, max_length=600, strip_whitespace=True)]
    account_id: Ref | None = None
    effective_at: AwareDatetime | None = None


class LoanData(_Model):
    loan_id: Ref
    status: Literal["submitted", "approved", "rejected", "disbursed", "due_soon", "overdue", "paid_off"]
    amount: Amount | None = None
    due_date: date | None = None


class ClaimData(_Model):
    claim_id: Ref
    status: Literal["submitted", "in_review", "approved", "paid", "rejected"]
    policy_id: Ref | None = None
    amount: Amount | None = None


class _Event(_Model):
    id: EventId = Field(description="Unique per tenant; sending the same id again returns the first answer")
    occurred_at: AwareDatetime
    customer_id: Ref = Field(description="The institution's own customer id")


class TransactionPosted(_Event):
    type: Literal["transaction.posted"]
    data: TransactionData


class BalanceChanged(_Event):
    type: Literal["balance.changed"]
    data: BalanceData


class ConfirmationRequested(_Event):
    type: Literal["confirmation.requested"]
    data: ConfirmationData


class CardStatusChanged(_Event):
    type: Literal["card.status_changed"]
    data: CardData


class AccountNotice(_Event):
    type: Literal["account.notice"]
    data: NoticeData


class LoanStatusChanged(_Event):
    type: Literal["loan.status_changed"]
    data: LoanData


class ClaimStatusChanged(_Event):
    type: Literal["claim.status_changed"]
    data: ClaimData


Event = Annotated[
    TransactionPosted
    | BalanceChanged
    | ConfirmationRequested
    | CardStatusChanged
    | AccountNotice
    | LoanStatusChanged
    | ClaimStatusChanged,
    Field(discriminator="type"),
]
EVENT_TYPES = (
    "transaction.posted",
    "balance.changed",
    "confirmation.requested",
    "card.status_changed",
    "account.notice",
    "loan.status_changed",
    "claim.status_changed",
)


class EventError(BaseModel):
    code: str = Field(description="invalid_event, unknown_customer, unknown_account, id_reused, core_unavailable")
    message: str
    field: str | None = None


class EventResult(BaseModel):
    index: int | None = Field(default=None, description="Position in the batch")
    id: str | None = None
    status: Literal["accepted", "rejected"]
    http_status: int
    replayed: bool = Field(default=False, description="True when this id was accepted before: the first answer")
    outcome: dict[str, Any] | None = Field(default=None, description="What Loket did, e.g. an alert queued")
    error: EventError | None = None


class BatchResult(BaseModel):
    accepted: int
    rejected: int
    results: list[EventResult]


class ErrorBody(BaseModel):
    error: EventError


EXAMPLES: dict[str, dict[str, Any]] = {
    "transaction": {
        "summary": "A card payment was posted",
        "value": {
            "id": "evt-20261130-000123",
            "type": "transaction.posted",
            "occurred_at": "2026-11-30T10:15:00+07:00",
            "customer_id": "BN-C-000042",
            "data": {
                "account_id": "BN-A-000042-1",
                "transaction_id": "TRX-99812",
                "direction": "debit",
                "amount": 1250000,
                "description": "Pembayaran QRIS",
                "counterparty": "Toko Elektronik Jaya",
                "channel": "QRIS",
                "balance_after": 8420500,
            },
        },
    },
    "confirmation": {
        "summary": "Ask the customer to confirm a transfer",
        "value": {
            "id": "evt-20261130-000124",
            "type": "confirmation.requested",
            "occurred_at": "2026-11-30T10:16:00+07:00",
            "customer_id": "BN-C-000042",
            "data": {
                "amount": 25000000,
                "payee": "PT Sumber Makmur",
                "channel": "Internet banking",
                "expires_at": "2026-11-30T10:26:00+07:00",
                "risk": "high",
                "account_id": "BN-A-000042-1",
                "transaction_ref": "TRF-55120",
            },
        },
    },
    "card": {
        "summary": "A card was blocked",
        "value": {
            "id": "evt-20261130-000125",
            "type": "card.status_changed",
            "occurred_at": "2026-11-30T10:17:00+07:00",
            "customer_id": "BN-C-000042",
            "data": {"card_id": "BN-K-000042-1", "last4": "1234", "status": "blocked", "reason": "Diblokir nasabah"},
        },
    },
    "notice": {
        "summary": "A change of terms",
        "value": {
            "id": "evt-20261130-000126",
            "type": "account.notice",
            "occurred_at": "2026-11-30T09:00:00+07:00",
            "customer_id": "BN-C-000042",
            "data": {
                "notice": "fee_change",
                "title": "Perubahan biaya administrasi",
                "body": "Mulai 1 Januari 2027 biaya administrasi bulanan Tabungan Nusantara menjadi Rp12.500.",
                "effective_at": "2027-01-01T00:00:00+07:00",
            },
        },
    },
}
