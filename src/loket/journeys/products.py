"""Product information: the general key-facts summary (RIPLAY umum) of the institution's products,
as text. The summaries are in the message catalogs (products.<product>.riplay); the figures are the
demo institutions' and made up."""

from __future__ import annotations

import re
from typing import Any

from loket.channel.outgoing import ListMessage, ListRow, ListSection, Text
from loket.conversation.journey import Context, Given, Outcome
from loket.i18n.catalog import t

PRODUCTS_BY_KIND: dict[str, tuple[str, ...]] = {
    "bank": ("savings", "personal_loan", "credit_card"),
    "insurer": ("motor", "health"),
    "lender": ("personal_loan",),
}
_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("credit_card", re.compile(r"kartu\s+kredit|credit\s*card|\bcc\b", re.IGNORECASE)),
    ("personal_loan", re.compile(r"\bkta\b|pinjaman|personal\s+loan|\bloan\b|kredit\s+tanpa", re.IGNORECASE)),
    ("savings", re.compile(r"tabungan|nabung|savings?|deposito|bunga\s+tabungan", re.IGNORECASE)),
    ("motor", re.compile(r"mobil|motor|kendaraan|vehicle|\bcar\b", re.IGNORECASE)),
    ("health", re.compile(r"kesehatan|rawat\s+inap|rumah\s+sakit|health|hospital", re.IGNORECASE)),
)


def products_of(kind: str) -> tuple[str, ...]:
    return PRODUCTS_BY_KIND.get(kind, ())


def product_in(kind: str, text: str | None) -> str | None:
    offered = products_of(kind)
    for product, pattern in _WORDS:
        if product in offered and text and pattern.search(text):
            return product
    return None


def _list(ctx: Context) -> ListMessage:
    language = ctx.language
    rows = tuple(
        ListRow(
            id=ctx.button(f"product.{product}"),
            title=t(language, f"products.{product}.title"),
            description=t(language, f"products.{product}.description"),
        )
        for product in products_of(ctx.tenant.kind)
    )
    return ListMessage(
        body=t(language, "products.intro", institution=ctx.tenant.display_name),
        button=t(language, "products.button"),
        sections=(ListSection(title=None, rows=rows),),
    )


def _riplay(ctx: Context, product: str) -> Outcome:
    language = ctx.language
    body = "\n\n".join(
        (
            t(
                language,
                f"products.{product}.riplay",
                institution=ctx.tenant.display_name,
                call_centre=ctx.tenant.call_centre,
            ),
            t(language, "products.disclaimer", institution=ctx.tenant.display_name),
        )
    )
    return Outcome([Text(body=body)])


class ProductsJourney:
    name = "products"
    kinds = None
    needs_customer = False
    step_up = False

    async def start(self, ctx: Context, given: Given) -> Outcome:
        if not products_of(ctx.tenant.kind):
            return Outcome([Text(body=t(ctx.language, "products.none", call_centre=ctx.tenant.call_centre))])
        product = product_in(ctx.tenant.kind, given.text)
        if product is not None:
            return _riplay(ctx, product)
        return Outcome([_list(ctx)], step="choose")

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        choice = (given.choice or "").removeprefix("product.")
        if choice in products_of(ctx.tenant.kind):
            return _riplay(ctx, choice)
        product = product_in(ctx.tenant.kind, given.text)
        if product is not None:
            return _riplay(ctx, product)
        return Outcome([_list(ctx)], step="choose")


JOURNEY = ProductsJourney()
