"""Data-subject requests from WhatsApp (UU PDP; docs/privacy.md).

Every request is recorded with its legal clock the moment it is understood (PDP-R9): the journey
hands the inbox a PrivacyAsk with a fresh reference, and the inbox writes the request in the same
transaction as the reply. Access to a copy and erasure need the person's identity: the customer taps
*Verifikasi*, which starts `privacy_verify`, a journey behind the step-up in the institution's app; its
approval moves the open requests on (the worker then builds the export or erases). Correction and
objection to an automated decision go to a person; a withdrawal of marketing consent acts at once.
"""

from __future__ import annotations

import abc
from typing import Any

from loket.channel.outgoing import ReplyButton, ReplyButtons, Text
from loket.conversation.journey import Context, Given, Outcome, action
from loket.conversation.turn import PrivacyAsk
from loket.i18n.catalog import t
from loket.journeys import handoff
from loket.privacy.model import Purpose, Right, new_reference

VERIFY = "privacy_verify"


def _opened(right: Right, purpose: Purpose | None = None) -> PrivacyAsk:
    return PrivacyAsk("open", right.value, new_reference(), purpose.value if purpose else None)


class _Base(abc.ABC):
    kinds = None
    needs_customer = False
    step_up = False

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        return await self.start(ctx, given)  # single-step journeys: a later message starts afresh

    @abc.abstractmethod
    async def start(self, ctx: Context, given: Given) -> Outcome: ...


class _NeedsIdentity(_Base):
    """Access and erasure: recorded now, acted on once the person is verified."""

    right: Right
    key: str

    async def start(self, ctx: Context, given: Given) -> Outcome:
        ask = _opened(self.right)
        language, institution = ctx.language, ctx.tenant.display_name
        body = t(language, f"privacy.{self.key}.received", reference=ask.reference, institution=institution)
        if ctx.turn.customer is None:
            # No customer record to send a step-up to: a person checks the identity (docs/privacy.md).
            text = body + "\n\n" + t(language, "privacy.verify_by_staff", call_centre=ctx.tenant.call_centre)
            extra = f"privacy request {ask.reference} ({self.right.value}): identity to be verified by staff"
            return Outcome(
                [Text(body=text)],
                privacy=[ask],
                handoff=handoff.request("data_request", [self.right.value], None, extra),
            )
        buttons = (
            ReplyButton(id=action(VERIFY), title=t(language, "privacy.button_verify")),
            ReplyButton(id=action("menu"), title=t(language, "step_up.button_menu")),
        )
        text = body + "\n\n" + t(language, "privacy.verify_in_app", institution=institution)
        return Outcome([ReplyButtons(body=text, buttons=buttons)], privacy=[ask])


class AccessJourney(_NeedsIdentity):
    name = "privacy_access"
    right = Right.ACCESS
    key = "access"


class ErasureJourney(_NeedsIdentity):
    name = "privacy_erasure"
    right = Right.ERASURE
    key = "erasure"


class VerifyJourney(_Base):
    """Reached only through the step-up: the approval is the proof of identity for the open requests."""

    name = VERIFY
    needs_customer = True
    step_up = True

    async def start(self, ctx: Context, given: Given) -> Outcome:
        body = t(ctx.language, "privacy.verified", institution=ctx.tenant.display_name)
        return Outcome([Text(body=body)], privacy=[PrivacyAsk("verified")])


class ToAPersonJourney(_Base):
    """Correction and objection: recorded with the clock running, then a person takes it."""

    def __init__(self, name: str, right: Right, key: str) -> None:
        self.name, self.right, self.key = name, right, key

    async def start(self, ctx: Context, given: Given) -> Outcome:
        ask = _opened(self.right)
        body = t(ctx.language, f"privacy.{self.key}.received", reference=ask.reference)
        extra = f"privacy request {ask.reference} ({self.right.value})"
        return Outcome(
            [Text(body=body)],
            privacy=[ask],
            handoff=handoff.request("data_request", [self.right.value], None, extra),
        )


class MarketingOptOutJourney(_Base):
    """ "Berhenti kirim promo": a withdrawal of consent to offers, effective at once (PDP-R7, OFR-4)."""

    name = "privacy_consent"

    async def start(self, ctx: Context, given: Given) -> Outcome:
        ask = _opened(Right.CONSENT_WITHDRAWAL, Purpose.MARKETING)
        body = t(ctx.language, "privacy.consent.done", reference=ask.reference, institution=ctx.tenant.display_name)
        return Outcome([Text(body=body)], privacy=[ask])


ACCESS = AccessJourney()
ERASURE = ErasureJourney()
VERIFIED = VerifyJourney()
CORRECTION = ToAPersonJourney("privacy_correction", Right.CORRECTION, "correction")
OBJECTION = ToAPersonJourney("privacy_objection", Right.OBJECTION, "objection")
CONSENT = MarketingOptOutJourney()
