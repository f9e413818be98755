"""Spending insight: this month so far, by category, against the same days of last month, with one
practical tip about the category that grew the most. Categories come from the transaction's
category and its merchant code (ISO 18245 MCC)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from loket.channel.outgoing import Text
from loket.conversation.journey import Context, Given, Outcome
from loket.core.port import Transaction
from loket.i18n.catalog import t
from loket.i18n.formatting import rupiah
from loket.journeys.ledger_view import day_range, local_day, start_of
from loket.understanding.periods import add_months

SHOWN = 7
_BY_MCC: dict[str, str] = {
    "5411": "groceries",
    "5462": "food",
    "5812": "food",
    "5814": "food",
    "5399": "shopping",
    "5311": "shopping",
    "5942": "shopping",
    "5912": "health",
    "5541": "transport",
    "7523": "transport",
    "4121": "transport",
    "4722": "travel",
    "4899": "subscriptions",
    "5815": "subscriptions",
    "4900": "bills",
    "4814": "bills",
    "9399": "bills",
    "9311": "fees",
}
_BY_CATEGORY: dict[str, str] = {
    "bill": "bills",
    "ewallet": "ewallet",
    "atm": "cash",
    "transfer_out": "transfers",
    "loan": "loans",
    "fee": "fees",
    "tax": "fees",
    "payroll": "transfers",
    "qris": "other",
    "card": "other",
}
# Spending a customer can steer; loan instalments, taxes and fees are not where a tip helps.
_TIPPABLE = frozenset(
    {"groceries", "food", "shopping", "transport", "travel", "subscriptions", "ewallet", "cash", "bills"}
)


def category_of(item: Transaction) -> str:
    if item.merchant_code and item.merchant_code in _BY_MCC:
        return _BY_MCC[item.merchant_code]
    return _BY_CATEGORY.get(item.category, "other")


def by_category(items: Iterable[Transaction]) -> Counter[str]:
    spent: Counter[str] = Counter()
    for item in items:
        if item.amount < 0:
            spent[category_of(item)] += -item.amount
    return spent


def _change(language: str, now_amount: int, before: int) -> str:
    if before == 0:
        return t(language, "spending.new") if now_amount else "–"
    percent = round((now_amount - before) * 100 / before)
    if percent == 0:
        return t(language, "spending.same")
    return f"▲ {percent}%" if percent > 0 else f"▼ {-percent}%"


class SpendingJourney:
    name = "spending"
    kinds = frozenset({"bank"})
    needs_customer = True
    step_up = True

    async def start(self, ctx: Context, given: Given) -> Outcome:
        language, zone = ctx.language, ctx.zone
        today = local_day(ctx.now, zone)
        first = today.replace(day=1)
        previous = add_months(first, -1)
        days = (today - first).days + 1
        previous_end = min(previous + timedelta(days=days), first)
        accounts = await ctx.core.list_accounts(ctx.tenant.tenant_id, ctx.customer.customer_id)
        this_month: Counter[str] = Counter()
        last_month: Counter[str] = Counter()
        for account in accounts:
            this_month += by_category(await self._between(ctx, account.account_id, first, today + timedelta(days=1)))
            last_month += by_category(await self._between(ctx, account.account_id, previous, previous_end))
        if not this_month:
            return Outcome(
                [
                    Text(
                        body=t(
                            language, "spending.nothing", period=day_range(language, first, today + timedelta(days=1))
                        )
                    )
                ]
            )
        total, total_before = sum(this_month.values()), sum(last_month.values())
        lines = [
            t(
                language,
                "spending.line",
                category=t(language, f"spending.categories.{name}"),
                amount=rupiah(amount),
                before=rupiah(last_month.get(name, 0)),
                change=_change(language, amount, last_month.get(name, 0)),
            )
            for name, amount in this_month.most_common(SHOWN)
        ]
        header = t(
            language,
            "spending.header",
            period=day_range(language, first, today + timedelta(days=1)),
            previous=day_range(language, previous, previous_end),
            total=rupiah(total),
            before=rupiah(total_before),
            change=_change(language, total, total_before),
        )
        grown = sorted(
            (name for name in this_month if name in _TIPPABLE),
            key=lambda name: this_month[name] - last_month.get(name, 0),
            reverse=True,
        )
        tip_key = f"spending.tips.{grown[0]}" if grown else "spending.tips.general"
        tip = t(language, "spending.tip", tip=t(language, tip_key))
        return Outcome([Text(body="\n\n".join((header, "\n".join(lines), tip)))])

    async def _between(self, ctx: Context, account_id: str, first: date, after: date) -> list[Transaction]:
        start = start_of(first, ctx.zone)
        end = min(start_of(after, ctx.zone), ctx.now + timedelta(seconds=1))
        return await ctx.core.list_transactions(ctx.tenant.tenant_id, account_id, start, max(start, end))

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        return await self.start(ctx, given)


JOURNEY = SpendingJourney()
