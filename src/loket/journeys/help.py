"""Help (what the bot can do here, for this customer) and the security sub-menu."""

from __future__ import annotations

from typing import Any

from loket.channel.outgoing import ReplyButton, ReplyButtons, Text
from loket.conversation.journey import Context, Given, Outcome, action
from loket.i18n.catalog import t

_LINES_BY_KIND: dict[str, tuple[str, ...]] = {
    "bank": ("balance", "mutations", "e_statement", "spending", "block_card"),
    "insurer": ("policies", "claims"),
    "lender": (),
}
_PUBLIC_LINES = ("official", "scam", "education", "products", "feedback", "human", "language")


def help_text(ctx: Context) -> str:
    language = ctx.language
    own = _LINES_BY_KIND.get(ctx.tenant.kind, ()) if ctx.turn.customer is not None else ()
    lines = [t(language, f"help.lines.{name}") for name in (*own, *_PUBLIC_LINES)]
    parts = [t(language, "help.intro", institution=ctx.tenant.display_name), "\n".join("• " + line for line in lines)]
    if ctx.turn.customer is None:
        parts.append(t(language, "help.public_only", institution=ctx.tenant.display_name))
    parts.append(t(language, "help.outro"))
    return "\n\n".join(parts)


class HelpJourney:
    name = "help"
    kinds = None
    needs_customer = False
    step_up = False

    async def start(self, ctx: Context, given: Given) -> Outcome:
        return Outcome([Text(body=help_text(ctx))])

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        return await self.start(ctx, given)


class SecurityJourney:
    """The menu's "Cek keamanan": which of the two checks."""

    name = "security"
    kinds = None
    needs_customer = False
    step_up = False

    async def start(self, ctx: Context, given: Given) -> Outcome:
        language = ctx.language
        buttons = (
            ReplyButton(id=action("official_channel"), title=t(language, "security.button_official")),
            ReplyButton(id=action("scam_check"), title=t(language, "security.button_scam")),
        )
        body = t(language, "security.body", institution=ctx.tenant.display_name)
        return Outcome([ReplyButtons(body=body, buttons=buttons)])

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        return await self.start(ctx, given)


HELP = HelpJourney()
SECURITY = SecurityJourney()
