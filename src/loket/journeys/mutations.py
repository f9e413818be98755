"""Mutations: the last N transactions or those of a period, newest first, paginated, with totals.

Step data keeps the account id and the selection (dates or N), never the transactions: every page
asks the core again.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from loket.channel.outgoing import ReplyButton, ReplyButtons, Text
from loket.conversation.journey import Context, Given, Outcome
from loket.conversation.turn import OutgoingMessage
from loket.core.port import Account, Transaction
from loket.i18n.catalog import t
from loket.i18n.formatting import mask_account, rupiah
from loket.journeys import accounts as picker
from loket.journeys.ledger_view import day_range, history_start, line, start_of, totals

PAGE_SIZE = 10
DEFAULT_COUNT = 10
MAX_COUNT = 50
_COUNT = re.compile(
    r"\b(\d{1,3})\s*(?:transaksi|trx|mutasi|transactions?)\b|\b(?:terakhir|last)\s+(\d{1,3})\b", re.IGNORECASE
)


def _selection(ctx: Context, given: Given) -> dict[str, Any]:
    period = given.entities.periods[0] if given.entities is not None and given.entities.periods else None
    if period is not None:
        return {"start": period.start.isoformat(), "end": period.end.isoformat()}
    match = _COUNT.search(given.text or "")
    count = int(match.group(1) or match.group(2)) if match else DEFAULT_COUNT
    return {"count": max(1, min(MAX_COUNT, count))}


async def _transactions(ctx: Context, account: Account, selection: dict[str, Any]) -> tuple[list[Transaction], str]:
    zone, now = ctx.zone, ctx.now
    tenant = ctx.tenant.tenant_id
    if "start" in selection:
        first, after = date.fromisoformat(selection["start"]), date.fromisoformat(selection["end"])
        end = min(start_of(after, zone), now + timedelta(seconds=1))
        start = start_of(first, zone)
        found = await ctx.core.list_transactions(tenant, account.account_id, start, max(start, end))
        return found, day_range(ctx.language, first, after)
    found = await ctx.core.list_transactions(
        tenant, account.account_id, history_start(now, zone), now + timedelta(seconds=1)
    )
    count = int(selection["count"])
    return found[-count:], t(ctx.language, "mutations.last_n", count=count)


def _page(ctx: Context, account: Account, found: list[Transaction], label: str, page: int) -> list[OutgoingMessage]:
    language = ctx.language
    newest_first = list(reversed(found))
    pages = max(1, -(-len(newest_first) // PAGE_SIZE))
    page = max(0, min(page, pages - 1))
    money_in, money_out = totals(found)
    header = t(
        language,
        "mutations.header",
        product=account.product_name,
        account=mask_account(account.number),
        label=label,
        count=len(found),
        money_in=rupiah(money_in),
        money_out=rupiah(money_out),
    )
    lines = [line(language, ctx.zone, item) for item in newest_first[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]]
    body = "\n\n".join((header, "\n".join(lines)))
    if pages == 1:
        return [Text(body=body + "\n\n" + t(language, "mutations.footer"))]
    progress = t(language, "mutations.page", page=page + 1, pages=pages)
    buttons = [ReplyButton(id=ctx.button("done"), title=t(language, "mutations.done"))]
    if page + 1 < pages:
        buttons.insert(0, ReplyButton(id=ctx.button("next"), title=t(language, "mutations.next")))
    return [Text(body=body), ReplyButtons(body=progress, buttons=tuple(buttons))]


class MutationsJourney:
    name = "mutations"
    kinds = frozenset({"bank"})
    needs_customer = True
    step_up = True

    async def start(self, ctx: Context, given: Given) -> Outcome:
        selection = _selection(ctx, given)
        accounts = await ctx.core.list_accounts(ctx.tenant.tenant_id, ctx.customer.customer_id)
        if not accounts:
            return Outcome([Text(body=t(ctx.language, "balance.none", call_centre=ctx.tenant.call_centre))])
        candidates = picker.from_text(accounts, given)
        if len(candidates) > 1:
            ask = picker.ask(ctx, candidates, "mutations.which_account")
            return Outcome([ask], step="account", data={"selection": selection})
        return await self._show(ctx, candidates[0], selection, 0)

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        selection = data.get("selection") or {"count": DEFAULT_COUNT}
        accounts = await ctx.core.list_accounts(ctx.tenant.tenant_id, ctx.customer.customer_id)
        if step == "account":
            account = picker.chosen(accounts, given)
            if account is None:
                narrowed = picker.from_text(accounts, given)
                if len(narrowed) == 1 and len(accounts) > 1:
                    account = narrowed[0]
            if account is None:
                return Outcome([picker.ask(ctx, accounts, "mutations.which_account")], step="account", data=data)
            return await self._show(ctx, account, selection, 0)
        account = next((a for a in accounts if a.account_id == data.get("account")), None)
        if account is None or given.choice == "done":
            return Outcome([Text(body=t(ctx.language, "mutations.closed"))])
        if given.choice == "next" or (given.text or "").strip().casefold() in {"lanjut", "next", "berikutnya", "more"}:
            return await self._show(ctx, account, selection, int(data.get("page", 0)) + 1)
        return await self.start(ctx, given)

    async def _show(self, ctx: Context, account: Account, selection: dict[str, Any], page: int) -> Outcome:
        found, label = await _transactions(ctx, account, selection)
        if not found:
            body = t(ctx.language, "mutations.empty", account=mask_account(account.number), label=label)
            return Outcome([Text(body=body)])
        replies = _page(ctx, account, found, label, page)
        if len(replies) == 1:
            return Outcome(replies)
        return Outcome(replies, step="page", data={"account": account.account_id, "selection": selection, "page": page})


JOURNEY = MutationsJourney()
