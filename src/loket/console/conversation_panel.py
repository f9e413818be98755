"""The customer panel beside the thread: who the customer is (masked), their products from the core,
recent alerts and confirmations, and open complaints. Unmasked values come only from `reveal_value`,
which the route calls after the audit entry is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.console.complaints_port import ComplaintSummary
from loket.console.conversation_access import ConversationRef
from loket.console.conversation_services import ConversationServices
from loket.console.reveal import format_phone, mask_email, mask_name, mask_number, mask_phone
from loket.core.port import CoreError, Customer
from loket.events.tables import Confirmation, InstitutionEvent

RECENT = 5


@dataclass(frozen=True, slots=True)
class Product:
    kind: str  # account, card, policy
    name: str
    masked: str
    reveal_field: str | None  # "account:<id>", "policy:<id>"; None when the core only has it masked
    status: str | None = None


@dataclass(frozen=True, slots=True)
class RecentEvent:
    kind: str
    at: datetime
    state: str | None = None
    amount: int | None = None


@dataclass
class CustomerPanel:
    known: bool  # the institution's customer record was found
    core_available: bool
    name: str  # masked
    phone: str  # masked
    email: str | None  # masked
    products: list[Product] = field(default_factory=list)
    alerts: list[RecentEvent] = field(default_factory=list)
    confirmations: list[RecentEvent] = field(default_factory=list)
    complaints: list[ComplaintSummary] = field(default_factory=list)
    complaints_known: bool = False


async def _customer(services: ConversationServices, ref: ConversationRef) -> tuple[Customer | None, bool]:
    if ref.customer_id is None:
        return None, True
    try:
        return await services.core.get_customer(ref.tenant_id, ref.customer_id), True
    except CoreError:
        return None, False


async def _products(services: ConversationServices, ref: ConversationRef) -> list[Product]:
    assert ref.customer_id is not None
    out: list[Product] = []
    try:
        for account in await services.core.list_accounts(ref.tenant_id, ref.customer_id):
            out.append(
                Product("account", account.product_name, mask_number(account.number), f"account:{account.account_id}")
            )
    except CoreError:
        pass
    try:
        for card in await services.core.list_cards(ref.tenant_id, ref.customer_id):
            out.append(Product("card", card.product_name, mask_number(card.masked_number), None, card.status.value))
    except CoreError:
        pass
    try:
        for policy in await services.core.list_policies(ref.tenant_id, ref.customer_id):
            out.append(
                Product(
                    "policy",
                    policy.product_name,
                    mask_number(policy.policy_number),
                    f"policy:{policy.policy_id}",
                    policy.status,
                )
            )
    except CoreError:
        pass
    return out


async def recent_events(session: AsyncSession, ref: ConversationRef) -> tuple[list[RecentEvent], list[RecentEvent]]:
    """Recent alerts and confirmations of the customer (the database; the core is not asked)."""
    if ref.customer_id is None:
        return [], []
    alerts = (
        await session.execute(
            select(InstitutionEvent.kind, InstitutionEvent.received_at)
            .where(InstitutionEvent.tenant_id == ref.tenant_id, InstitutionEvent.customer_id == ref.customer_id)
            .order_by(InstitutionEvent.id.desc())
            .limit(RECENT)
        )
    ).all()
    confirmations = (
        await session.execute(
            select(Confirmation.state, Confirmation.created_at, Confirmation.amount)
            .where(Confirmation.tenant_id == ref.tenant_id, Confirmation.customer_id == ref.customer_id)
            .order_by(Confirmation.created_at.desc())
            .limit(RECENT)
        )
    ).all()
    return (
        [RecentEvent(kind, at) for kind, at in alerts],
        [RecentEvent("confirmation", at, state, amount) for state, at, amount in confirmations],
    )


async def customer_panel(services: ConversationServices, ref: ConversationRef) -> CustomerPanel:
    """Who the customer is and their products, from the core: call with no database session open."""
    customer, core_ok = await _customer(services, ref)
    panel = CustomerPanel(
        known=customer is not None,
        core_available=core_ok,
        name=mask_name(customer.full_name) if customer else "—",
        phone=mask_phone(ref.wa_id),
        email=mask_email(customer.email) if customer and customer.email else None,
    )
    if customer is not None:
        panel.products = await _products(services, ref)
    return panel


async def add_complaints(services: ConversationServices, panel: CustomerPanel, ref: ConversationRef) -> None:
    """Open complaints, from the complaints adapter; call with no session open (it opens its own)."""
    panel.complaints = await services.complaints.open_for(ref.tenant_id, ref.wa_id, ref.customer_id)
    panel.complaints_known = services.complaints.known


async def reveal_value(services: ConversationServices, ref: ConversationRef, field_name: str) -> str | None:
    """The unmasked value of one field (None when there is none); call only after auditing the reveal."""
    if field_name == "phone":
        return format_phone(ref.wa_id)
    if ref.customer_id is None:
        return None
    try:
        if field_name in ("name", "email"):
            customer = await services.core.get_customer(ref.tenant_id, ref.customer_id)
            return customer.full_name if field_name == "name" else customer.email
        kind, _, item = field_name.partition(":")
        if kind == "account":
            accounts = await services.core.list_accounts(ref.tenant_id, ref.customer_id)
            return next((a.number for a in accounts if a.account_id == item), None)
        if kind == "policy":
            policies = await services.core.list_policies(ref.tenant_id, ref.customer_id)
            return next((p.policy_number for p in policies if p.policy_id == item), None)
    except CoreError:
        return None
    return None


async def first_name(services: ConversationServices, ref: ConversationRef) -> str | None:
    """For the {{nama}} variable of a reply; None when the customer is not known."""
    customer, _ = await _customer(services, ref)
    return customer.full_name.split()[0] if customer and customer.full_name.split() else None
