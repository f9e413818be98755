"""Block a card: protective, so no step-up. One matching active card is blocked at once; with more,
the customer picks one (or all). The institution is told through CorePort.block_card; the customer
gets the reference and what to do next."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from loket.channel.outgoing import ListMessage, ListRow, ListSection, ReplyButton, ReplyButtons, Text
from loket.conversation.journey import Context, Given, Outcome
from loket.conversation.turn import NewSignal, OutgoingMessage
from loket.core.port import Card, CardStatus
from loket.i18n.catalog import t
from loket.i18n.formatting import local_time

ALL = "all"
# Words that say the card is in danger: with them, one matching card is blocked at once. Without
# them ("kartu", a menu tap) the customer confirms with one tap on the card first.
_CLEARLY = re.compile(
    r"hilang|ilang|dicuri|kecurian|dicopet|kecopetan|tertelan|ketelen|blokir|blok|bobol|disalahgunakan|"
    r"lost|stolen|swallowed|block|misused|hacked",
    re.IGNORECASE,
)
CHOICE_PREFIX = "card."
REASON = "reported lost, stolen or misused by the customer on WhatsApp"


def _last4(card: Card) -> str:
    return card.masked_number.replace(" ", "")[-4:]


def _label(language: str, card: Card) -> str:
    return t(language, f"block_card.kind.{card.kind.value}", last4=_last4(card))


def _narrow(cards: Sequence[Card], given: Given) -> list[Card]:
    found = list(cards)
    for ref in given.entities.accounts if given.entities is not None else ():
        kind = {"credit_card": "credit", "debit_card": "debit"}.get(ref.kind or "")
        narrowed = [
            c for c in found if (kind is None or c.kind.value == kind) and (ref.last4 is None or _last4(c) == ref.last4)
        ]
        if narrowed and (kind is not None or ref.last4 is not None):
            found = narrowed
    return found


def _ask(ctx: Context, cards: Sequence[Card]) -> OutgoingMessage:
    language = ctx.language
    options = [(ctx.button(CHOICE_PREFIX + card.card_id), _label(language, card), card.product_name) for card in cards]
    options.append(
        (ctx.button(CHOICE_PREFIX + ALL), t(language, "block_card.all"), t(language, "block_card.all_description"))
    )
    body = t(language, "block_card.which")
    if len(options) <= 3:
        return ReplyButtons(body=body, buttons=tuple(ReplyButton(id=i, title=title) for i, title, _ in options))
    rows = tuple(ListRow(id=i, title=title, description=description[:72]) for i, title, description in options[:10])
    return ListMessage(
        body=body, button=t(language, "block_card.button"), sections=(ListSection(title=None, rows=rows),)
    )


class BlockCardJourney:
    name = "block_card"
    kinds = frozenset({"bank"})
    needs_customer = True
    step_up = False  # protective: the faster the better, and a thief gains nothing by it

    async def start(self, ctx: Context, given: Given) -> Outcome:
        cards = await ctx.core.list_cards(ctx.tenant.tenant_id, ctx.customer.customer_id)
        active = [card for card in cards if card.status is CardStatus.ACTIVE]
        if not active:
            return Outcome([Text(body=t(ctx.language, "block_card.none", call_centre=ctx.tenant.call_centre))])
        candidates = _narrow(active, given)
        if len(candidates) == 1 and given.text and _CLEARLY.search(given.text):
            return await self._block(ctx, candidates)
        return Outcome([_ask(ctx, candidates)], step="choose")

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        cards = await ctx.core.list_cards(ctx.tenant.tenant_id, ctx.customer.customer_id)
        active = [card for card in cards if card.status is CardStatus.ACTIVE]
        choice = (given.choice or "").removeprefix(CHOICE_PREFIX)
        if choice == ALL:
            return await self._block(ctx, active)
        picked = [card for card in active if card.card_id == choice] or _narrow(active, given)
        if len(picked) == 1:
            return await self._block(ctx, picked)
        if not active:
            return Outcome([Text(body=t(ctx.language, "block_card.none", call_centre=ctx.tenant.call_centre))])
        return Outcome([_ask(ctx, active)], step="choose")

    async def _block(self, ctx: Context, cards: Sequence[Card]) -> Outcome:
        language = ctx.language
        lines = []
        signals = []
        for card in cards:
            block = await ctx.core.block_card(ctx.tenant.tenant_id, card.card_id, REASON)
            lines.append(
                t(
                    language,
                    "block_card.line",
                    card=_label(language, card),
                    product=card.product_name,
                    reference=block.reference,
                )
            )
            signals.append(NewSignal("card_blocked", {"card_id": card.card_id, "reference": block.reference}))
        body = "\n\n".join(
            (
                t(language, "block_card.done", time=local_time(ctx.now, ctx.zone, language)),
                "\n".join(lines),
                t(language, "block_card.next", call_centre=ctx.tenant.call_centre, institution=ctx.tenant.display_name),
            )
        )
        return Outcome([Text(body=body)], signals=signals)


JOURNEY = BlockCardJourney()
