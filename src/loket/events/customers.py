"""Who an event is about: the institution's customer id resolved to a WhatsApp id, zone and language.

Answered from `outbound_recipients` while fresh (a day), otherwise from CorePort (the customer and
their accounts), and remembered: the events path stays fast for customers seen before. Only masked
account labels are kept, never a full account number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.alerts.preferences import AlertPreferences
from loket.clock import Clock, system_clock
from loket.core.port import Account, CoreError, CorePort, Customer, NotFound
from loket.db.models import Conversation
from loket.db.upsert import insert_ignore
from loket.events.tables import AlertPreference
from loket.i18n.formatting import mask_account
from loket.outbound.tables import Recipient

FRESH_FOR = timedelta(days=1)
CORE_CONCURRENCY = 16


@dataclass(frozen=True, slots=True)
class KnownCustomer:
    customer_id: str
    wa_id: str
    language: str | None  # the core's record
    zone: str | None
    province: str | None
    accounts: dict[str, dict[str, str]] = field(default_factory=dict)
    chosen_language: str | None = None  # what the customer chose in the chat, if they have written
    prefs: AlertPreferences | None = None

    def account_label(self, account_id: str | None) -> str | None:
        if account_id is None:
            return None
        account = self.accounts.get(account_id)
        return account.get("masked") if account else None


class CoreUnavailable(Exception):
    """The core system could not answer now; the caller may try again later."""


class CustomerDirectory:
    def __init__(self, core: CorePort, *, clock: Clock = system_clock, fresh_for: timedelta = FRESH_FOR) -> None:
        self._core = core
        self._clock = clock
        self._fresh_for = fresh_for

    async def resolve(
        self, session: AsyncSession, dialect: str, tenant_id: str, customer_ids: Iterable[str]
    ) -> dict[str, KnownCustomer | None]:
        """Each id maps to the customer, or None when the institution does not know it.

        Raises CoreUnavailable when the core is needed and cannot answer.
        """
        wanted = sorted(set(customer_ids))
        found: dict[str, KnownCustomer | None] = dict(await self._cached(session, tenant_id, wanted))
        missing = [cid for cid in wanted if cid not in found]
        if missing:
            fetched = await self._fetch(tenant_id, missing)
            learnt: list[str] = []
            for customer_id, answer in fetched.items():
                if answer is not None:
                    customer, accounts = answer
                    await self._remember(session, dialect, customer, accounts)
                    learnt.append(customer_id)
                else:
                    found[customer_id] = None
            found.update(await self._cached(session, tenant_id, learnt, fresh_only=False))
        return {cid: found.get(cid) for cid in wanted}

    async def _cached(
        self, session: AsyncSession, tenant_id: str, ids: list[str], *, fresh_only: bool = True
    ) -> dict[str, KnownCustomer]:
        """Known customers with their alert preferences and chat language, in one query."""
        if not ids:
            return {}
        query = (
            select(
                Recipient.customer_id,
                Recipient.wa_id,
                Recipient.language,
                Recipient.zone,
                Recipient.province,
                Recipient.accounts,
                Conversation.language,
                AlertPreference.min_amount,
                AlertPreference.kinds,
                AlertPreference.digest_below,
            )
            .select_from(Recipient)
            .outerjoin(
                Conversation, and_(Conversation.tenant_id == Recipient.tenant_id, Conversation.wa_id == Recipient.wa_id)
            )
            .outerjoin(
                AlertPreference,
                and_(
                    AlertPreference.tenant_id == Recipient.tenant_id,
                    AlertPreference.customer_id == Recipient.customer_id,
                ),
            )
            .where(Recipient.tenant_id == tenant_id, Recipient.customer_id.in_(ids))
        )
        if fresh_only:
            query = query.where(Recipient.refreshed_at > self._clock.now() - self._fresh_for)
        found: dict[str, KnownCustomer] = {}
        for (
            cid,
            wa_id,
            language,
            zone,
            province,
            accounts,
            chosen,
            minimum,
            kinds,
            digest_below,
        ) in await session.execute(query):
            prefs = None
            if minimum is not None:
                prefs = AlertPreferences(minimum, frozenset(kinds) if kinds is not None else None, digest_below)
            found[cid] = KnownCustomer(cid, wa_id, language, zone, province, dict(accounts or {}), chosen, prefs)
        return found

    async def _fetch(self, tenant_id: str, ids: list[str]) -> dict[str, tuple[Customer, list[Account]] | None]:
        limit = asyncio.Semaphore(CORE_CONCURRENCY)

        async def one(customer_id: str) -> tuple[Customer, list[Account]] | None:
            async with limit:
                try:
                    customer = await self._core.get_customer(tenant_id, customer_id)
                    accounts = await self._core.list_accounts(tenant_id, customer_id)
                except NotFound:
                    return None
                except CoreError as exc:
                    raise CoreUnavailable(type(exc).__name__) from exc
                return customer, accounts

        answers = await asyncio.gather(*(one(cid) for cid in ids))
        return dict(zip(ids, answers, strict=True))

    async def _remember(
        self, session: AsyncSession, dialect: str, customer: Customer, accounts: list[Account]
    ) -> KnownCustomer:
        now = self._clock.now()
        wa_id = customer.phone_e164.lstrip("+")
        labels = {a.account_id: {"masked": mask_account(a.number), "product": a.product_name} for a in accounts}
        tenant_id = customer.tenant_id
        # A customer whose number changed: the old row no longer speaks for them.
        await session.execute(
            update(Recipient)
            .where(
                Recipient.tenant_id == tenant_id,
                Recipient.customer_id == customer.customer_id,
                Recipient.wa_id != wa_id,
            )
            .values(customer_id=None, updated_at=now)
        )
        await session.execute(
            insert_ignore(dialect, Recipient, "tenant_id", "wa_id").values(
                tenant_id=tenant_id, wa_id=wa_id, updated_at=now
            )
        )
        values: dict[str, Any] = {
            "customer_id": customer.customer_id,
            "zone": customer.timezone,
            "province": customer.province,
            "language": customer.language,
            "accounts": labels,
            "refreshed_at": now,
            "updated_at": now,
        }
        await session.execute(
            update(Recipient).where(Recipient.tenant_id == tenant_id, Recipient.wa_id == wa_id).values(**values)
        )
        await session.execute(
            update(Recipient)
            .where(
                Recipient.tenant_id == tenant_id,
                Recipient.wa_id == wa_id,
                Recipient.relationship_since.is_(None),
            )
            .values(relationship_since=now)
        )
        return KnownCustomer(
            customer.customer_id, wa_id, customer.language, customer.timezone, customer.province, labels
        )
