"""The JSON shapes of the core HTTP API (docs/core-api.md), shared by the demo server and HttpCore.

Response bodies are the CorePort dataclasses themselves, serialised by pydantic: field names as in
`loket.core.port`, enums as their string values, dates and datetimes as ISO-8601. Lists are wrapped
in `{"items": [...]}` so they can grow paging fields later without breaking anyone.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from loket.core.port import Account, Card, CardBlock, Customer, Policy, StepUpRequest, Transaction, TransactionHold

T = TypeVar("T")


class Items(BaseModel, Generic[T]):
    items: list[T]


class BlockCardBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=200)


class HoldBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=200)
    account_id: str | None = Field(default=None, min_length=1, max_length=64)


class StepUpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(min_length=1, max_length=64)
    action: str = Field(min_length=1, max_length=200)
    ttl_seconds: int = Field(gt=0)


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool


class ErrorDetail(BaseModel):
    code: str  # not_found, conflict, invalid_request, unauthorized, internal
    message: str
    resource: str | None = None  # on not_found: "tenant" when the tenant itself is unknown


class ErrorBody(BaseModel):
    error: ErrorDetail


CUSTOMER = TypeAdapter(Customer)
CUSTOMERS = TypeAdapter(Items[Customer])
ACCOUNTS = TypeAdapter(Items[Account])
TRANSACTIONS = TypeAdapter(Items[Transaction])
CARDS = TypeAdapter(Items[Card])
CARD_BLOCK = TypeAdapter(CardBlock)
TRANSACTION_HOLD = TypeAdapter(TransactionHold)
POLICIES = TypeAdapter(Items[Policy])
STEP_UP = TypeAdapter(StepUpRequest)
STEP_UPS = TypeAdapter(Items[StepUpRequest])
ERROR = TypeAdapter(ErrorBody)
