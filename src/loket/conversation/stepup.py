"""Step-up verification: a second factor that never travels as a chat message.

A sensitive journey asks the institution's app to confirm the customer (CorePort.request_step_up,
2 minutes by default); the customer approves there, and the journey resumes: when the customer
writes again, or when the inbox's step-up watcher sees the decision and posts an internal event
(`loket.dialogue.stepup_watch`). Once approved, the customer stays elevated for a while (5 minutes
by default, LOKET_STEP_UP_TTL_SECONDS). An approval that arrives after the request expired is
refused, whatever the core says: the decision must be inside the window Loket asked for.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from loket.channel.outgoing import ReplyButton, ReplyButtons
from loket.conversation.journey import action
from loket.conversation.state import Dialogue, PendingStepUp
from loket.conversation.turn import OutgoingMessage, Turn
from loket.core.port import CorePort, NotFound, StepUpStatus
from loket.i18n.catalog import t
from loket.i18n.formatting import local_time

STEP_UP_EVENT = "step_up"  # the kind of the inbox's internal event when a request changed state


@dataclass(frozen=True, slots=True)
class StepUpSettings:
    request_ttl_seconds: int = 120
    elevated_ttl_seconds: int = 300


class Resolution(enum.StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class Checked:
    resolution: Resolution
    pending: PendingStepUp


class StepUp:
    def __init__(self, core: CorePort, settings: StepUpSettings) -> None:
        self._core = core
        self._settings = settings

    async def ask(self, turn: Turn, state: Dialogue, resume: dict[str, Any]) -> list[OutgoingMessage]:
        """Ask the institution's app (or reuse a request still pending) and tell the customer."""
        assert turn.customer is not None
        language, journey = turn.language, str(resume.get("journey", ""))
        pending = state.step_up()
        if (
            pending is not None
            and pending.customer_id == turn.customer.customer_id
            and turn.now < pending.expires_at - timedelta(seconds=15)
        ):
            request_id, expires_at = pending.request_id, pending.expires_at
        else:
            request = await self._core.request_step_up(
                turn.tenant.tenant_id,
                turn.customer.customer_id,
                t(language, f"step_up.action.{journey}"),
                self._settings.request_ttl_seconds,
            )
            request_id, expires_at = request.request_id, request.expires_at
        state.set_step_up(request_id, expires_at, turn.customer.customer_id, resume)
        state.set_retry(None)
        minutes = max(1, round(self._settings.request_ttl_seconds / 60))
        body = t(
            language,
            "step_up.ask",
            institution=turn.tenant.display_name,
            what=t(language, f"step_up.what.{journey}"),
            minutes=minutes,
            until=local_time(expires_at, _zone(turn), language),
        )
        buttons = (
            ReplyButton(id=action("step_up_check"), title=t(language, "step_up.button_done")),
            ReplyButton(id=action("cancel"), title=t(language, "step_up.button_cancel")),
        )
        return [ReplyButtons(body=body, buttons=buttons)]

    async def check(self, turn: Turn, state: Dialogue) -> Checked | None:
        """What became of the pending request; None when there is none (or it is not this customer's)."""
        pending = state.step_up()
        if pending is None:
            return None
        if turn.customer is None or pending.customer_id != turn.customer.customer_id:
            state.clear_step_up()  # the number is no longer bound to the customer who asked
            return None
        try:
            request = await self._core.get_step_up(turn.tenant.tenant_id, pending.request_id)
        except NotFound:
            return Checked(Resolution.EXPIRED, pending)
        if request.status is StepUpStatus.APPROVED:
            decided = request.decided_at or turn.now
            in_time = decided <= min(request.expires_at, pending.expires_at)
            return Checked(Resolution.APPROVED if in_time else Resolution.EXPIRED, pending)
        if request.status is StepUpStatus.REJECTED:
            return Checked(Resolution.REJECTED, pending)
        if request.status is StepUpStatus.EXPIRED or turn.now >= pending.expires_at:
            return Checked(Resolution.EXPIRED, pending)
        return Checked(Resolution.PENDING, pending)

    def elevate(self, turn: Turn, state: Dialogue) -> None:
        assert turn.customer is not None
        state.clear_step_up()
        state.elevate(turn.customer.customer_id, turn.now + timedelta(seconds=self._settings.elevated_ttl_seconds))

    def still_waiting(self, turn: Turn, pending: PendingStepUp) -> list[OutgoingMessage]:
        language = turn.language
        body = t(
            language,
            "step_up.waiting",
            institution=turn.tenant.display_name,
            until=local_time(pending.expires_at, _zone(turn), language),
        )
        buttons = (
            ReplyButton(id=action("step_up_check"), title=t(language, "step_up.button_done")),
            ReplyButton(id=action("cancel"), title=t(language, "step_up.button_cancel")),
        )
        return [ReplyButtons(body=body, buttons=buttons)]

    def failed(self, turn: Turn, state: Dialogue, checked: Checked) -> list[OutgoingMessage]:
        language, journey = turn.language, str(checked.pending.resume.get("journey", ""))
        state.clear_step_up()
        what = t(language, f"step_up.what.{journey}")
        if checked.resolution is Resolution.REJECTED:
            body = t(language, "step_up.rejected", what=what, call_centre=turn.tenant.call_centre)
            return [
                ReplyButtons(
                    body=body, buttons=(ReplyButton(id=action("menu"), title=t(language, "step_up.button_menu")),)
                )
            ]
        state.set_retry(checked.pending.resume)
        minutes = max(1, round(self._settings.request_ttl_seconds / 60))
        body = t(language, "step_up.expired", what=what, minutes=minutes)
        buttons = (
            ReplyButton(id=action("step_up_retry"), title=t(language, "step_up.button_retry")),
            ReplyButton(id=action("menu"), title=t(language, "step_up.button_menu")),
        )
        return [ReplyButtons(body=body, buttons=buttons)]


def _zone(turn: Turn) -> str:
    return turn.customer.timezone if turn.customer is not None else "Asia/Jakarta"
