"""The main menu as an interactive list; its rows depend on the kind of institution and on whether
the number belongs to a customer (others get the public services only). WhatsApp allows ten rows."""

from __future__ import annotations

from loket.channel.outgoing import ListMessage, ListRow, ListSection
from loket.conversation.turn import TenantView
from loket.i18n.catalog import t

MENU_PREFIX = "menu:"

# Rows for customers: their own services first, then the public ones.
ITEMS_BY_KIND: dict[str, tuple[str, ...]] = {
    "bank": (
        "balance",
        "mutations",
        "e_statement",
        "spending",
        "block_card",
        "security",
        "education",
        "products",
        "feedback",
        "help",
    ),
    "insurer": ("policies", "claims", "security", "education", "products", "feedback", "help"),
    "lender": ("security", "education", "products", "feedback", "help"),
}
PUBLIC_ITEMS = ("security", "education", "products", "feedback", "help")
PRIVATE_ITEMS = frozenset({"balance", "mutations", "e_statement", "spending", "block_card", "policies", "claims"})
DEFAULT_ITEMS = PUBLIC_ITEMS


def menu_items(tenant: TenantView, customer: bool = True) -> tuple[str, ...]:
    items = ITEMS_BY_KIND.get(tenant.kind, DEFAULT_ITEMS)
    return items if customer else tuple(item for item in items if item not in PRIVATE_ITEMS)


def main_menu(tenant: TenantView, language: str, customer: bool = True) -> ListMessage:
    rows = tuple(
        ListRow(
            id=f"{MENU_PREFIX}{item}",
            title=t(language, f"menu.{item}.title"),
            description=t(language, f"menu.{item}.description"),
        )
        for item in menu_items(tenant, customer)
    )
    sections = (ListSection(title=t(language, "menu.section"), rows=rows),)
    return ListMessage(
        body=t(language, "menu.body"),
        button=t(language, "menu.button"),
        sections=sections,
        footer=t(language, "menu.footer"),
    )


def menu_choice(tenant: TenantView, reply_id: str | None, customer: bool = True) -> str | None:
    """The menu item a tapped row stands for, or None for a row this menu no longer has.

    A non-customer tapping a customer's row (an old menu, or a number that changed hands) gets
    None too: the row is not theirs to use."""
    if not reply_id or not reply_id.startswith(MENU_PREFIX):
        return None
    item = reply_id[len(MENU_PREFIX) :]
    if item in menu_items(tenant, True) and item in PRIVATE_ITEMS and not customer:
        return item  # the engine answers "for registered numbers only", which says more than "stale"
    return item if item in menu_items(tenant, customer) else None
