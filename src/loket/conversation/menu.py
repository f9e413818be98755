"""The main menu as an interactive list; its rows depend on what kind of institution it is."""

from __future__ import annotations

from loket.channel.outgoing import ListMessage, ListRow, ListSection
from loket.conversation.turn import TenantView
from loket.i18n.catalog import t

MENU_PREFIX = "menu:"

ITEMS_BY_KIND: dict[str, tuple[str, ...]] = {
    "bank": ("balance", "help"),
    "lender": ("help",),
    "insurer": ("policies", "help"),
}


def menu_items(tenant: TenantView) -> tuple[str, ...]:
    return ITEMS_BY_KIND.get(tenant.kind, ("help",))


def main_menu(tenant: TenantView, language: str) -> ListMessage:
    rows = tuple(
        ListRow(
            id=f"{MENU_PREFIX}{item}",
            title=t(language, f"menu.{item}.title"),
            description=t(language, f"menu.{item}.description"),
        )
        for item in menu_items(tenant)
    )
    return ListMessage(
        body=t(language, "menu.body"),
        button=t(language, "menu.button"),
        sections=(ListSection(title=t(language, "menu.section"), rows=rows),),
        footer=t(language, "menu.footer"),
    )


def menu_choice(tenant: TenantView, reply_id: str | None) -> str | None:
    """The menu item a tapped row stands for, or None for a row this menu no longer has."""
    if not reply_id or not reply_id.startswith(MENU_PREFIX):
        return None
    item = reply_id[len(MENU_PREFIX) :]
    return item if item in menu_items(tenant) else None
