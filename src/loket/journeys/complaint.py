"""Pengaduan from WhatsApp (CMP-1, CMP-4): collect product, cause, amount, date and what happened,
step by step, then hand the inbox a ComplaintAsk; the inbox registers it in the same transaction and
answers at once with the reference number and the deadline (loket.complaints.intake).

What happened is asked last, so the customer's own words never sit in the dialogue state: they go
straight from this turn into the sealed complaint record.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loket.channel.outgoing import ListMessage, ListRow, ListSection, ReplyButton, ReplyButtons, Text
from loket.complaints.model import CAUSES, find_reference
from loket.compliance.zones import WIB
from loket.conversation.journey import Context, Given, Outcome
from loket.conversation.turn import ComplaintAsk, OutgoingMessage
from loket.i18n.catalog import t

NONE = "none"
MAX_ROWS = 10  # WhatsApp list messages carry at most ten rows
_NO_AMOUNT = re.compile(
    r"^\s*(tidak\s+ada|tdk\s+ada|gak\s+ada|ga\s+ada|nggak\s+ada|tidak|bukan|none|no|nothing|-)\s*$", re.I
)
_DIGITS = re.compile(r"^\s*(?:rp\.?\s*)?(\d{1,3}(?:[.,]\d{3})+|\d+)\s*$", re.I)
_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
MIN_SUMMARY = 10
MAX_SUMMARY = 2000
# Products offered in the list per tenant kind (at most ten rows; "other" always last).
_PRODUCTS_FOR = {
    "bank": ("savings", "credit_card", "debit_card", "loan", "mobile_banking", "transfer", "time_deposit", "mortgage"),
    "insurer": ("insurance_life", "insurance_general"),
    "lender": ("fintech_lending", "financing"),
}


def _list(ctx: Context, body_key: str, prefix: str, values: tuple[str, ...], label: str) -> OutgoingMessage:
    language = ctx.language
    rows = tuple(
        ListRow(id=ctx.button(f"{prefix}.{value}"), title=t(language, f"complaint.{label}.{value}")[:24])
        for value in values[:MAX_ROWS]
    )
    return ListMessage(
        body=t(language, body_key),
        button=t(language, "complaint.choose"),
        sections=(ListSection(title=None, rows=rows),),
    )


def _products(ctx: Context) -> tuple[str, ...]:
    return (*_PRODUCTS_FOR.get(ctx.tenant.kind, ()), "other")


def _causes() -> tuple[str, ...]:
    return CAUSES[:MAX_ROWS]


def _picked(given: Given, prefix: str, allowed: tuple[str, ...]) -> str | None:
    value = (given.choice or "").removeprefix(prefix + ".")
    return value if value in allowed else None


def parse_amount(given: Given) -> int | str | None:
    """Rupiah, None for "no amount", or "" when the answer is not understood."""
    text = given.text or ""
    if given.choice == NONE or _NO_AMOUNT.match(text):
        return None
    match = _DIGITS.match(text)
    if match:
        return int(re.sub(r"[.,]", "", match.group(1)))
    amounts = given.entities.amounts if given.entities is not None else ()
    if amounts:
        return int(amounts[0].value)
    return ""


def parse_date(given: Given, today: date) -> date | None:
    text = given.text or ""
    match = _DATE.match(text)
    found: date | None = None
    if match:
        try:
            found = date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        except ValueError:
            return None
    elif given.entities is not None and given.entities.periods:
        found = given.entities.periods[0].start
    if found is None or found > today:
        return None
    return found


class ComplaintJourney:
    name = "complaint"
    kinds = None
    needs_customer = False  # anyone may complain (CMP-1); a non-customer is recorded by wa_id
    step_up = False
    free_text_steps = frozenset({"what"})

    async def start(self, ctx: Context, given: Given) -> Outcome:
        intro = Text(body=t(ctx.language, "complaint.intro", institution=ctx.tenant.display_name))
        return Outcome([intro, _list(ctx, "complaint.ask_product", "p", _products(ctx), "products")], step="product")

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        language = ctx.language
        if step == "product":
            product = _picked(given, "p", _products(ctx))
            if product is None:
                return Outcome([_list(ctx, "complaint.ask_product", "p", _products(ctx), "products")], step, data)
            return Outcome([_list(ctx, "complaint.ask_cause", "c", _causes(), "causes")], "cause", {"product": product})
        if step == "cause":
            cause = _picked(given, "c", _causes())
            if cause is None:
                return Outcome([_list(ctx, "complaint.ask_cause", "c", _causes(), "causes")], step, data)
            return Outcome([self._ask_amount(ctx)], "amount", {**data, "cause": cause})
        if step == "amount":
            amount = parse_amount(given)
            if amount == "":
                return Outcome([Text(body=t(language, "complaint.amount_unclear"))], step, data)
            return Outcome([Text(body=t(language, "complaint.ask_date"))], "date", {**data, "amount": amount})
        if step == "date":
            today = ctx.now.astimezone(_zone(ctx)).date()
            when = parse_date(given, today)
            if when is None:
                return Outcome([Text(body=t(language, "complaint.date_unclear"))], step, data)
            return Outcome([Text(body=t(language, "complaint.ask_what"))], "what", {**data, "date": when.isoformat()})
        if step == "what":
            summary = (given.text or "").strip()
            if len(summary) < MIN_SUMMARY:
                return Outcome([Text(body=t(language, "complaint.what_short"))], step, data)
            ask = ComplaintAsk(
                "file",
                product=str(data.get("product", "other")),
                cause=str(data.get("cause", "other")),
                amount=data.get("amount") if isinstance(data.get("amount"), int) else None,
                incident_date=str(data["date"]) if data.get("date") else None,
                summary=summary[:MAX_SUMMARY],
            )
            return Outcome([], complaints=[ask])
        return await self.start(ctx, given)

    def _ask_amount(self, ctx: Context) -> OutgoingMessage:
        return ReplyButtons(
            body=t(ctx.language, "complaint.ask_amount"),
            buttons=(ReplyButton(id=ctx.button(NONE), title=t(ctx.language, "complaint.no_amount")),),
        )


def _zone(ctx: Context) -> ZoneInfo:
    try:
        return ZoneInfo(ctx.zone)
    except (ValueError, ZoneInfoNotFoundError):
        return WIB


class ComplaintStatusJourney:
    name = "complaint_status"
    kinds = None
    needs_customer = False
    step_up = False

    async def start(self, ctx: Context, given: Given) -> Outcome:
        reference = find_reference(given.text or "")
        if reference is None:
            return Outcome([Text(body=t(ctx.language, "complaint.ask_reference"))], step="reference")
        return Outcome([], complaints=[ComplaintAsk("status", reference=reference)])

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        reference = find_reference(given.text or "")
        if reference is None:
            return Outcome([Text(body=t(ctx.language, "complaint.reference_unclear"))], step="reference")
        return Outcome([], complaints=[ComplaintAsk("status", reference=reference)])


JOURNEY = ComplaintJourney()
STATUS = ComplaintStatusJourney()
