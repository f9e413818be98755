"""Which account a journey is about: named in the text ("tabungan", "yang 1234"), the only one, or
asked for with a button per account."""

from __future__ import annotations

from collections.abc import Sequence

from loket.channel.outgoing import ListMessage, ListRow, ListSection, ReplyButton, ReplyButtons
from loket.conversation.journey import Context, Given
from loket.conversation.turn import OutgoingMessage
from loket.core.port import Account
from loket.i18n.catalog import t
from loket.i18n.formatting import mask_account

CHOICE_PREFIX = "acct."


def account_label(language: str, account: Account) -> str:
    return t(language, f"accounts.kind.{account.kind.value}", last4=account.number[-4:])


def from_text(accounts: Sequence[Account], given: Given) -> list[Account]:
    """The accounts the text narrows to; all of them when it names none."""
    refs = given.entities.accounts if given.entities is not None else ()
    found = list(accounts)
    for ref in refs:
        narrowed = [
            account
            for account in found
            if (ref.kind is None or ref.kind == account.kind.value)
            and (ref.last4 is None or account.number.endswith(ref.last4))
        ]
        if narrowed:
            found = narrowed
    return found


def chosen(accounts: Sequence[Account], given: Given) -> Account | None:
    if given.choice is None or not given.choice.startswith(CHOICE_PREFIX):
        return None
    wanted = given.choice[len(CHOICE_PREFIX) :]
    return next((account for account in accounts if account.account_id == wanted), None)


def ask(ctx: Context, accounts: Sequence[Account], question_key: str) -> OutgoingMessage:
    language = ctx.language
    body = t(language, question_key)
    if len(accounts) <= 3:
        return ReplyButtons(
            body=body,
            buttons=tuple(
                ReplyButton(id=ctx.button(CHOICE_PREFIX + account.account_id), title=account_label(language, account))
                for account in accounts
            ),
        )
    rows = tuple(
        ListRow(
            id=ctx.button(CHOICE_PREFIX + account.account_id),
            title=account_label(language, account),
            description=f"{account.product_name} {mask_account(account.number)}"[:72],
        )
        for account in accounts[:10]
    )
    return ListMessage(
        body=body,
        button=t(language, "accounts.button"),
        sections=(ListSection(title=None, rows=rows),),
    )
