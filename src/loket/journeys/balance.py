"""Balance: every account of the customer, masked, in rupiah, as of now in their own zone."""

from __future__ import annotations

from typing import Any

from loket.channel.outgoing import Text
from loket.conversation.journey import Context, Given, Outcome
from loket.conversation.turn import Turn
from loket.core.port import Account, CorePort
from loket.i18n.catalog import t
from loket.i18n.formatting import local_time, mask_account, rupiah


def _line(language: str, account: Account) -> str:
    return t(
        language,
        "balance.line",
        product=account.product_name,
        account=mask_account(account.number),
        balance=rupiah(account.balance),
        available=rupiah(account.available_balance),
    )


async def balance(core: CorePort, turn: Turn) -> list[Text]:
    assert turn.customer is not None
    language = turn.language
    accounts = await core.list_accounts(turn.tenant.tenant_id, turn.customer.customer_id)
    if not accounts:
        return [Text(body=t(language, "balance.none", call_centre=turn.tenant.call_centre))]
    parts = [t(language, "balance.header", time=local_time(turn.now, turn.customer.timezone, language))]
    parts.extend(_line(language, account) for account in accounts)
    parts.append(t(language, "balance.footer"))
    return [Text(body="\n\n".join(parts))]


class BalanceJourney:
    name = "balance"
    kinds = frozenset({"bank"})
    needs_customer = True
    step_up = True

    async def start(self, ctx: Context, given: Given) -> Outcome:
        return Outcome(replies=list(await balance(ctx.core, ctx.turn)))

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        return await self.start(ctx, given)


JOURNEY = BalanceJourney()
