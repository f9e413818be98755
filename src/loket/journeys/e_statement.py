"""E-statement: one month of one account as an encrypted PDF, delivered as a WhatsApp document.

The month comes from the text ("bulan lalu", "Oktober"), else last month. The PDF is made here and
handed to the inbox as a NewDocument: the inbox seals it at rest, uploads it after the commit and
queues the document message (loket.dialogue.documents). The message says how the password is made
(date of birth, DDMMYYYY), never the password.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from loket.channel.outgoing import Text
from loket.conversation.journey import Context, Given, Outcome
from loket.conversation.turn import NewDocument, NewSignal
from loket.core.port import Account, Transaction
from loket.i18n.catalog import t
from loket.i18n.formatting import mask_account
from loket.journeys import accounts as picker
from loket.journeys.ledger_view import local_day, month_name, start_of
from loket.journeys.statement_pdf import Statement, encrypt, password_for, render
from loket.understanding.periods import add_months

AVAILABLE_MONTHS = 3  # the current month and the three before it


def _month(ctx: Context, given: Given) -> date:
    today = local_day(ctx.now, ctx.zone)
    period = given.entities.periods[0] if given.entities is not None and given.entities.periods else None
    if period is not None:
        return period.start.replace(day=1)
    return add_months(today.replace(day=1), -1)


async def _balances(ctx: Context, account: Account, first: date, after: date) -> tuple[list[Transaction], int, int]:
    tenant, zone = ctx.tenant.tenant_id, ctx.zone
    start = start_of(first, zone)
    end = min(start_of(after, zone), ctx.now + timedelta(seconds=1))
    found = await ctx.core.list_transactions(tenant, account.account_id, start, max(start, end))
    if found:
        return found, found[0].balance_after - found[0].amount, found[-1].balance_after
    later = await ctx.core.list_transactions(
        tenant, account.account_id, max(start, end), ctx.now + timedelta(seconds=1)
    )
    balance = later[0].balance_after - later[0].amount if later else account.balance
    return [], balance, balance


class EStatementJourney:
    name = "e_statement"
    kinds = frozenset({"bank"})
    needs_customer = True
    step_up = True

    async def start(self, ctx: Context, given: Given) -> Outcome:
        month = _month(ctx, given)
        accounts = await ctx.core.list_accounts(ctx.tenant.tenant_id, ctx.customer.customer_id)
        if not accounts:
            return Outcome([Text(body=t(ctx.language, "balance.none", call_centre=ctx.tenant.call_centre))])
        candidates = picker.from_text(accounts, given)
        if len(candidates) > 1:
            ask = picker.ask(ctx, candidates, "statement.which_account")
            return Outcome([ask], step="account", data={"month": month.isoformat()})
        return await self._send(ctx, candidates[0], month)

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        accounts = await ctx.core.list_accounts(ctx.tenant.tenant_id, ctx.customer.customer_id)
        account = picker.chosen(accounts, given)
        if account is None:
            narrowed = picker.from_text(accounts, given)
            account = narrowed[0] if len(narrowed) == 1 and len(accounts) > 1 else None
        if account is None:
            return Outcome([picker.ask(ctx, accounts, "statement.which_account")], step="account", data=data)
        return await self._send(ctx, account, date.fromisoformat(str(data.get("month"))))

    async def _send(self, ctx: Context, account: Account, month: date) -> Outcome:
        language = ctx.language
        this_month = local_day(ctx.now, ctx.zone).replace(day=1)
        label = month_name(language, month)
        if month > this_month:
            return Outcome([Text(body=t(language, "statement.future", month=label))])
        if month < add_months(this_month, -AVAILABLE_MONTHS):
            return Outcome(
                [
                    Text(
                        body=t(
                            language, "statement.too_old", months=AVAILABLE_MONTHS, call_centre=ctx.tenant.call_centre
                        )
                    )
                ]
            )
        after = add_months(month, 1)
        found, opening, closing = await _balances(ctx, account, month, after)
        last_day = min(after - timedelta(days=1), local_day(ctx.now, ctx.zone))
        statement = Statement(
            tenant_id=ctx.tenant.tenant_id,
            institution=ctx.tenant.display_name,
            legal_name=ctx.tenant.legal_name or ctx.tenant.display_name,
            customer_name=ctx.customer.full_name,
            product=account.product_name,
            account_masked=mask_account(account.number),
            period_label=label,
            period_start=month,
            period_end=last_day,
            opening=opening,
            closing=closing,
            transactions=found,
            language=language,
            zone=ctx.zone,
            generated_at=ctx.now,
        )
        pdf = encrypt(render(statement), password_for(ctx.customer.date_of_birth))
        filename = f"{t(language, 'statement.filename')}-{month:%Y-%m}-{account.number[-4:]}.pdf"
        caption = t(
            language,
            "statement.caption",
            month=label,
            product=account.product_name,
            account=mask_account(account.number),
        )
        body = t(language, "statement.sending", month=label, account=mask_account(account.number))
        return Outcome(
            [Text(body="\n\n".join((body, t(language, "statement.password"))))],
            documents=[NewDocument(data=pdf, filename=filename, caption=caption)],
            signals=[NewSignal("statement_sent", {"month": f"{month:%Y-%m}", "account_id": account.account_id})],
        )


JOURNEY = EStatementJourney()
