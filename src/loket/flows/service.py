"""What Loket's Flow data endpoint answers, once `FlowEndpoint` has checked and decrypted a request.

Every request must carry a live token (open, unexpired, single-use); otherwise `FlowTokenInvalid` (427)
with a message in the customer's language when we know it. INIT and BACK show the form; a submission
is checked, and either comes back to the same screen with an error or is stored and closes the Flow.
Form contents are never logged: only the flow, the action and the feedback reference.
"""

from __future__ import annotations

import logging
from datetime import datetime

from loket.channel.flows_endpoint import FlowAction, FlowReply, FlowRequest, FlowTokenInvalid, close_flow
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.scope import SystemReason, tenant_scope, unscoped
from loket.flows.store import complete_flow, find_flow, new_reference, store_feedback
from loket.i18n.catalog import t
from loket.journeys import feedback, feedback_flow
from loket.journeys.feedback_flow import Refusal
from loket.security.secretbox import SecretBox

log = logging.getLogger(__name__)


class UnexpectedScreen(ValueError):
    """A data exchange from a screen the Flow does not have: a client bug or a forged request."""


class FlowService:
    def __init__(self, db: Database, box: SecretBox, *, clock: Clock = system_clock) -> None:
        self._db = db
        self._box = box
        self._clock = clock

    async def __call__(self, request: FlowRequest) -> FlowReply:
        now = self._clock.now()
        # The single-use token names its tenant: look that up across tenants, then work inside it.
        async with self._db.system_session(SystemReason.FLOW_TOKEN) as session:
            owner = await find_flow(session, request.flow_token)
        with tenant_scope(owner.tenant_id) if owner is not None else unscoped():
            return await self._answer(request, now)

    async def _answer(self, request: FlowRequest, now: datetime) -> FlowReply:
        async with self._db.transaction() as session:
            found = await find_flow(session, request.flow_token)
            if found is None or not found.is_live(now) or found.flow != feedback.FLOW:
                # Unknown tokens get the default language: there is nobody to know the language of.
                raise FlowTokenInvalid(t(found.language if found else None, "feedback.errors.expired"))
            if request.action in (FlowAction.INIT, FlowAction.BACK):
                return feedback_flow.screen(found.language, found.tenant_kind)
            if request.screen != feedback_flow.SCREEN:
                raise UnexpectedScreen(f"no screen {request.screen!r} in the feedback flow")
            outcome = feedback_flow.read_submission(found.language, found.tenant_kind, request.data)
            if isinstance(outcome, Refusal):
                log.info("feedback refused on screen (tenant=%s)", found.tenant_id)
                return feedback_flow.screen(found.language, found.tenant_kind, error=outcome.message)
            reference = new_reference()
            if not await complete_flow(session, found, now, {"reference": reference, "contact": outcome.contact_ok}):
                raise FlowTokenInvalid(t(found.language, "feedback.errors.expired"))
            await store_feedback(session, self._box, found, outcome, reference=reference, now=now)
        log.info("feedback stored: %s (tenant=%s)", reference, found.tenant_id)
        return close_flow(request.flow_token, {"reference": reference})
