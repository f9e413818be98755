"""Scam check: the customer forwards a suspicious message, link, file or number; the bot says what
looks wrong and why, and what to do. A customer who already shared a code or installed a file is
offered to block their cards right away and to talk to a person."""

from __future__ import annotations

from typing import Any

from loket.channel.outgoing import ReplyButton, ReplyButtons, Text
from loket.conversation.journey import Context, Given, Outcome, action
from loket.conversation.turn import NewSignal, OutgoingMessage
from loket.i18n.catalog import t
from loket.journeys.registry_check import Registry
from loket.journeys.scam_signals import ScamReport, analyse

MEDIA_KINDS = frozenset({"document", "image", "video", "audio"})


def protect_offer(ctx: Context) -> OutgoingMessage:
    """Buttons for a customer whose codes or phone may be in a thief's hands."""
    language = ctx.language
    buttons = [ReplyButton(id=action("human", "compromised"), title=t(language, "scam.button_human"))]
    if ctx.tenant.kind == "bank" and ctx.turn.customer is not None:
        buttons.insert(0, ReplyButton(id=action("block_card"), title=t(language, "scam.button_block")))
    body = t(language, "scam.compromised", call_centre=ctx.tenant.call_centre, institution=ctx.tenant.display_name)
    return ReplyButtons(body=body, buttons=tuple(buttons))


def _has_content(given: Given, report: ScamReport) -> bool:
    return bool(report.reasons or report.checks or report.compromised or given.forwarded or given.kind in MEDIA_KINDS)


class ScamCheckJourney:
    name = "scam_check"
    kinds = None
    needs_customer = False
    step_up = False

    async def start(self, ctx: Context, given: Given) -> Outcome:
        report = self._report(ctx, given)
        if not _has_content(given, report):
            return Outcome([Text(body=t(ctx.language, "scam.ask"))], step="await")
        return self._answer(ctx, given, report)

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        return self._answer(ctx, given, self._report(ctx, given))

    def _report(self, ctx: Context, given: Given) -> ScamReport:
        registry = Registry.of(ctx.tenant.official, ctx.tenant.display_name)
        return analyse(given.text or "", given.entities, given.media, registry)

    def _answer(self, ctx: Context, given: Given, report: ScamReport) -> Outcome:
        language = ctx.language
        institution, call_centre = ctx.tenant.display_name, ctx.tenant.call_centre
        parts: list[str] = []
        if report.suspicious:
            parts.append(t(language, "scam.suspicious"))
            params = {"institution": institution, "file": "", "lookalike": "", "numbers": "", "short": ""}
            params.update(report.details)
            parts.append("\n".join("• " + t(language, f"scam.reasons.{reason}", **params) for reason in report.reasons))
            parts.append(t(language, "scam.advice", institution=institution, call_centre=call_centre))
        elif given.kind == "image":
            parts.append(t(language, "scam.image"))
            parts.append(t(language, "scam.advice", institution=institution, call_centre=call_centre))
        else:
            parts.append(t(language, "scam.nothing_found", institution=institution))
            parts.append(t(language, "scam.general", call_centre=call_centre))
        replies: list[OutgoingMessage] = [Text(body="\n\n".join(parts))]
        signals = [NewSignal("scam_reported", {"reasons": list(report.reasons), "forwarded": given.forwarded})]
        if report.compromised:
            replies.append(protect_offer(ctx))
            signals.append(NewSignal("compromise_reported", {"reasons": list(report.reasons)}))
        return Outcome(replies, signals=signals)


JOURNEY = ScamCheckJourney()
