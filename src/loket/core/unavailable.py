"""A CorePort for a process that must not reach the core: every call fails as retryable."""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from loket.core.port import (
    Account,
    Card,
    CardBlock,
    CoreError,
    Customer,
    Policy,
    StepUpRequest,
    Transaction,
    TransactionHold,
)


class UnavailableCore:
    """Used by `loket serve` without LOKET_CORE_URL: it stores webhooks but answers no customer."""

    def _fail(self) -> NoReturn:
        raise CoreError("no core system configured (LOKET_CORE_URL)", retryable=True)

    async def find_customer_by_phone(self, tenant_id: str, phone_e164: str) -> Customer | None:
        self._fail()

    async def get_customer(self, tenant_id: str, customer_id: str) -> Customer:
        self._fail()

    async def list_accounts(self, tenant_id: str, customer_id: str) -> list[Account]:
        self._fail()

    async def list_transactions(
        self, tenant_id: str, account_id: str, start: datetime, end: datetime
    ) -> list[Transaction]:
        self._fail()

    async def list_cards(self, tenant_id: str, customer_id: str) -> list[Card]:
        self._fail()

    async def block_card(self, tenant_id: str, card_id: str, reason: str) -> CardBlock:
        self._fail()

    async def hold_transaction(
        self, tenant_id: str, transaction_ref: str, reason: str, *, account_id: str | None = None
    ) -> TransactionHold:
        self._fail()

    async def list_policies(self, tenant_id: str, customer_id: str) -> list[Policy]:
        self._fail()

    async def request_step_up(self, tenant_id: str, customer_id: str, action: str, ttl_seconds: int) -> StepUpRequest:
        self._fail()

    async def get_step_up(self, tenant_id: str, request_id: str) -> StepUpRequest:
        self._fail()
