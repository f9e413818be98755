"""Official-channel check: "is +62 811 xxxx yours?", "is bank-nusantara-promo.com yours?". Open to
everyone. With nothing to check in the message, the bot confirms this chat is official, lists the
official channels and asks for the number, site or account to check."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit

from loket.channel.outgoing import Text
from loket.conversation.journey import Context, Given, Outcome
from loket.i18n.catalog import t
from loket.journeys.defang import defang
from loket.journeys.registry_check import LOOKALIKE, OFFICIAL, SOCIAL_HOSTS, Check, Registry, check_text

PLATFORM_NAMES = {
    "instagram": "Instagram",
    "x": "X",
    "facebook": "Facebook",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "telegram": "Telegram",
}


def official_summary(ctx: Context) -> str:
    registry = ctx.tenant.official
    socials = ", ".join(social_label(str(url)) for url in registry.get("social_accounts") or ())
    return t(
        ctx.language,
        "official.summary",
        institution=ctx.tenant.display_name,
        whatsapp=", ".join(registry.get("whatsapp_numbers") or ()) or "-",
        call_centre=", ".join(registry.get("call_centre_numbers") or ()) or "-",
        sites=", ".join(registry.get("web_domains") or ()) or "-",
        emails=", ".join("@" + d for d in registry.get("email_domains") or ()) or "-",
        socials=socials or "-",
    )


def social_label(url: str) -> str:
    """ "Instagram @banknusantara" rather than a link: the account, not a URL to click."""
    parts = urlsplit(url if "://" in url else "https://" + url)
    platform = SOCIAL_HOSTS.get((parts.hostname or "").casefold().removeprefix("www."), "")
    handle = parts.path.strip("/").split("/")[0].removeprefix("@")
    return f"{PLATFORM_NAMES.get(platform, platform)} @{handle}" if platform and handle else defang(url)


def describe(ctx: Context, check: Check) -> str:
    language, institution = ctx.language, ctx.tenant.display_name
    if check.kind in ("site", "email") and check.verdict != OFFICIAL:
        check = dataclasses.replace(check, value=defang(check.value))
    if check.verdict == OFFICIAL:
        what = (
            t(language, f"official.what.{check.what}")
            if check.kind != "social"
            else PLATFORM_NAMES.get(check.what, check.what)
        )
        return t(language, "official.is_official", value=check.value, what=what, institution=institution)
    if check.verdict == LOOKALIKE:
        return t(language, f"official.lookalike_{check.kind}", value=check.value, institution=institution)
    return t(language, f"official.unknown_{check.kind}", value=check.value, institution=institution)


def checks_for(ctx: Context, given: Given) -> list[Check]:
    if given.entities is None or not given.text:
        return []
    registry = Registry.of(ctx.tenant.official, ctx.tenant.display_name)
    return check_text(registry, given.text, given.entities)


class OfficialChannelJourney:
    name = "official_channel"
    kinds = None
    needs_customer = False
    step_up = False

    async def start(self, ctx: Context, given: Given) -> Outcome:
        checks = checks_for(ctx, given)
        if not checks:
            body = "\n\n".join(
                (
                    t(ctx.language, "official.this_chat", institution=ctx.tenant.display_name),
                    official_summary(ctx),
                    t(ctx.language, "official.ask"),
                )
            )
            return Outcome([Text(body=body)], step="await")
        return self._answer(ctx, checks)

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        checks = checks_for(ctx, given)
        if not checks:
            return Outcome([Text(body=t(ctx.language, "official.nothing_found"))])
        return self._answer(ctx, checks)

    def _answer(self, ctx: Context, checks: list[Check]) -> Outcome:
        parts = [describe(ctx, check) for check in checks]
        if any(check.verdict != OFFICIAL for check in checks):
            parts.append(t(ctx.language, "official.advice", call_centre=ctx.tenant.call_centre))
        parts.append(official_summary(ctx))
        return Outcome([Text(body="\n\n".join(parts))])


JOURNEY = OfficialChannelJourney()
