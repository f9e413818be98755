"""Alerts in the customer's language and zone: a free-form message for inside the 24-hour window and
the approved utility template with the same facts for outside it. Pure: no database, no HTTP.

Amounts are Rp1.234.567, accounts masked to their last four digits, times in WIB/WITA/WIT. A
transaction alert carries a "Bukan saya" button whose id (`alr:<event id>`) brings the tap back to
Loket's alert handler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from loket.channel.outgoing import QuickReplyButtonParam, ReplyButton, ReplyButtons, Template, Text, TextParam
from loket.i18n.catalog import t
from loket.i18n.formatting import local_time, rupiah

ALERT_PREFIX = "alr:"
TEMPLATE_TRANSACTION = "loket_transaction_alert"
TEMPLATE_UPDATE = "loket_account_update"
TEMPLATE_DIGEST = "loket_alert_digest"
_SPACES = re.compile(r"\s+")
_PARAM_MAX = 300


@dataclass(frozen=True, slots=True)
class Audience:
    language: str  # id or en
    zone: str | None  # IANA zone of the customer's domicile
    institution: str
    call_centre: str


@dataclass(frozen=True, slots=True)
class Composed:
    message: Text | ReplyButtons  # inside the window
    template: Template | None  # outside it; None: only free-form exists
    summary: str  # one line, for digests and evidence


def template_param(text: str) -> TextParam:
    """Meta refuses new lines, tabs and runs of spaces in template parameters."""
    flat = _SPACES.sub(" ", text).strip() or "-"
    return TextParam(flat[:_PARAM_MAX])


def template_language(language: str) -> str:
    return "en" if language == "en" else "id"


def _when(moment: datetime, audience: Audience) -> str:
    return local_time(moment, audience.zone, audience.language)


def _day(day: date, audience: Audience) -> str:
    return day.strftime("%d-%m-%Y")


def not_me_button_id(event_id: str) -> str:
    return f"{ALERT_PREFIX}{event_id}"


def transaction_alert(
    audience: Audience,
    *,
    event_id: str,
    direction: str,
    amount: int,
    account: str,
    description: str,
    counterparty: str | None,
    balance_after: int | None,
    posted_at: datetime,
) -> Composed:
    lang = audience.language
    when = _when(posted_at, audience)
    lines = [
        t(
            lang,
            f"alerts.transaction.{direction}",
            account=account,
            description=description,
            amount=rupiah(amount),
            time=when,
        )
    ]
    if counterparty:
        lines.append(
            t(
                lang,
                "alerts.transaction.to" if direction == "debit" else "alerts.transaction.from",
                counterparty=counterparty,
            )
        )
    if balance_after is not None:
        lines.append(t(lang, "alerts.transaction.balance", balance=rupiah(balance_after)))
    lines.append("")
    lines.append(t(lang, "alerts.transaction.not_me"))
    button = ReplyButton(not_me_button_id(event_id), t(lang, "alerts.not_me_button"))
    message = ReplyButtons(body="\n".join(lines), buttons=(button,))
    detail = f"{description} ({counterparty})" if counterparty else description
    template = Template(
        name=TEMPLATE_TRANSACTION,
        language=template_language(lang),
        body=(
            template_param(t(lang, f"alerts.transaction.direction_{direction}")),
            template_param(account),
            template_param(rupiah(amount)),
            template_param(when),
            template_param(detail),
            template_param(rupiah(balance_after) if balance_after is not None else t(lang, "alerts.unknown")),
        ),
        buttons=(QuickReplyButtonParam(0, not_me_button_id(event_id)),),
    )
    sign = "-" if direction == "debit" else "+"
    return Composed(message, template, f"{sign}{rupiah(amount)} {description}")


def update_alert(audience: Audience, text: str) -> Composed:
    """A status update (balance, card, notice, loan, claim): the same text in the generic template."""
    return Composed(
        Text(body=text),
        Template(name=TEMPLATE_UPDATE, language=template_language(audience.language), body=(template_param(text),)),
        _SPACES.sub(" ", text)[:120],
    )


def balance_text(audience: Audience, *, account: str, balance: int, available: int | None, at: datetime) -> str:
    lang = audience.language
    lines = [t(lang, "alerts.balance.changed", account=account, balance=rupiah(balance), time=_when(at, audience))]
    if available is not None:
        lines.append(t(lang, "alerts.balance.available", available=rupiah(available)))
    return "\n".join(lines)


def card_text(audience: Audience, *, card: str, status: str, reason: str | None, at: datetime) -> str:
    lang = audience.language
    lines = [t(lang, f"alerts.card.{status}", card=card, time=_when(at, audience), call_centre=audience.call_centre)]
    if reason:
        lines.append(t(lang, "alerts.card.reason", reason=reason))
    return "\n".join(lines)


def notice_text(audience: Audience, *, title: str, body: str, effective_at: datetime | None) -> str:
    lang = audience.language
    lines = [t(lang, "alerts.notice.text", title=title, body=body)]
    if effective_at is not None:
        lines.append(t(lang, "alerts.notice.effective", date=_when(effective_at, audience)))
    return "\n".join(lines)


def loan_text(audience: Audience, *, loan: str, status: str, amount: int | None, due: date | None) -> str:
    lang = audience.language
    lines = [t(lang, f"alerts.loan.{status}", loan=loan, call_centre=audience.call_centre)]
    if amount is not None:
        lines.append(t(lang, "alerts.loan.amount", amount=rupiah(amount)))
    if due is not None:
        lines.append(t(lang, "alerts.loan.due_date", date=_day(due, audience)))
    return "\n".join(lines)


def claim_text(audience: Audience, *, claim: str, status: str, amount: int | None) -> str:
    lang = audience.language
    lines = [t(lang, f"alerts.claim.{status}", claim=claim, call_centre=audience.call_centre)]
    if amount is not None:
        lines.append(t(lang, "alerts.claim.amount", amount=rupiah(amount)))
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class DigestLine:
    at: datetime
    description: str
    amount: int  # signed: debits negative


def digest(audience: Audience, lines: list[DigestLine]) -> Composed:
    lang = audience.language
    total = sum(line.amount for line in lines)
    body = [t(lang, "alerts.digest.header", count=len(lines), total=rupiah(total))]
    body += [
        t(
            lang,
            "alerts.digest.line",
            time=_when(line.at, audience),
            description=line.description,
            amount=rupiah(line.amount),
        )
        for line in lines[:30]
    ]
    template = Template(
        name=TEMPLATE_DIGEST,
        language=template_language(lang),
        body=(template_param(str(len(lines))), template_param(rupiah(total))),
    )
    return Composed(Text(body="\n".join(body)), template, f"{len(lines)} items {rupiah(total)}")
