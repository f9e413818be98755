"""The confirmation messages: the request with "Ya, saya" / "Bukan saya", its template, and the
replies after each step. Pure. What was shown is kept, with its SHA-256, as evidence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from loket.alerts.compose import Audience, template_language, template_param
from loket.channel.outgoing import QuickReplyButtonParam, ReplyButton, ReplyButtons, Template, Text
from loket.confirmations.machine import Effect, Reply
from loket.i18n.catalog import t
from loket.i18n.formatting import local_time, rupiah

CONFIRM_PREFIX = "cfm:"
TEMPLATE_CONFIRMATION = "loket_transaction_confirmation"


@dataclass(frozen=True, slots=True)
class Request:
    confirmation_id: str
    amount: int
    payee: str
    channel: str
    requested_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Shown:
    message: ReplyButtons
    template: Template
    record: dict[str, Any]  # both variants, as the customer sees them
    sha256: str


def button_id(confirmation_id: str, reply: Reply) -> str:
    return f"{CONFIRM_PREFIX}{confirmation_id}:{reply.value}"


def parse_button(reply_id: str) -> tuple[str, Reply] | None:
    if not reply_id.startswith(CONFIRM_PREFIX):
        return None
    confirmation_id, _, answer = reply_id[len(CONFIRM_PREFIX) :].rpartition(":")
    try:
        return confirmation_id, Reply(answer)
    except ValueError:
        return None


def request_message(audience: Audience, request: Request) -> Shown:
    lang = audience.language
    when = local_time(request.requested_at, audience.zone, lang)
    expires = local_time(request.expires_at, audience.zone, lang)
    body = t(
        lang,
        "alerts.confirm.request",
        amount=rupiah(request.amount),
        payee=request.payee,
        channel=request.channel,
        time=when,
        expires=expires,
    )
    yes, no = t(lang, "alerts.confirm.yes"), t(lang, "alerts.confirm.no")
    message = ReplyButtons(
        body=body,
        buttons=(
            ReplyButton(button_id(request.confirmation_id, Reply.YES), yes),
            ReplyButton(button_id(request.confirmation_id, Reply.NO), no),
        ),
    )
    params = (rupiah(request.amount), request.payee, request.channel, when, expires)
    template = Template(
        name=TEMPLATE_CONFIRMATION,
        language=template_language(lang),
        body=tuple(template_param(value) for value in params),
        buttons=(
            QuickReplyButtonParam(0, button_id(request.confirmation_id, Reply.YES)),
            QuickReplyButtonParam(1, button_id(request.confirmation_id, Reply.NO)),
        ),
    )
    record: dict[str, Any] = {
        "interactive": {"body": body, "buttons": [yes, no]},
        "template": {
            "name": TEMPLATE_CONFIRMATION,
            "language": template.language,
            "text": t(lang, "alerts.templates.confirmation"),
            "parameters": [param.text for param in template.body if hasattr(param, "text")],
            "buttons": [yes, no],
        },
    }
    digest = hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return Shown(message, template, record, digest)


@dataclass(frozen=True, slots=True)
class Facts:
    amount: int
    payee: str
    state: str
    card: str | None = None  # masked card, when one was blocked
    hold: str | None = None  # the core's reference of the transaction hold, when it held it
    step_up_minutes: int = 5


def reply(audience: Audience, effect: Effect, facts: Facts, confirmation_id: str) -> Text | ReplyButtons | None:
    """The message for a TELL_* effect; None for effects that say nothing to the customer."""
    lang = audience.language
    common = {
        "amount": rupiah(facts.amount),
        "payee": facts.payee,
        "institution": audience.institution,
        "call_centre": audience.call_centre,
    }
    if effect is Effect.TELL_CONFIRMED:
        return Text(body=t(lang, "alerts.confirm.confirmed", **common))
    if effect is Effect.TELL_STEP_UP:
        return Text(body=t(lang, "alerts.confirm.step_up", minutes=facts.step_up_minutes, **common))
    if effect is Effect.TELL_STEP_UP_FAILED:
        return Text(body=t(lang, "alerts.confirm.step_up_failed", **common))
    if effect is Effect.TELL_EXPIRED:
        return Text(body=t(lang, "alerts.confirm.expired", **common))
    if effect is Effect.TELL_AGENT:
        return Text(body=t(lang, "alerts.confirm.agent_requested", **common))
    if effect is Effect.TELL_ALREADY:
        state = t(lang, f"alerts.states.{facts.state}")
        return Text(body=t(lang, "alerts.confirm.already", state=state))
    if effect is Effect.TELL_DENIED:
        lines = [t(lang, "alerts.confirm.denied", **common)]
        if facts.hold:
            lines.append(t(lang, "alerts.confirm.denied_held", reference=facts.hold, **common))
        else:
            lines.append(t(lang, "alerts.confirm.denied_unheld", **common))
        if facts.card:
            lines.append(t(lang, "alerts.confirm.denied_card", card=facts.card))
        lines.append(t(lang, "alerts.confirm.denied_help", **common))
        agent = ReplyButton(button_id(confirmation_id, Reply.AGENT), t(lang, "alerts.confirm.agent"))
        return ReplyButtons(body="\n\n".join(lines), buttons=(agent,))
    return None


def step_up_action(audience: Audience, facts: Facts) -> str:
    return t(audience.language, "alerts.confirm.step_up_action", amount=rupiah(facts.amount), payee=facts.payee)
