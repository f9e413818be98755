"""Kritik & saran: offer the feedback Flow, and thank the customer when it comes back completed.

The Flow message carries a fresh, unguessable token; the inbox stores it bound to the tenant and the
customer, and the Flow data endpoint (`loket.flows.service`) accepts it once. When WhatsApp delivers
the customer's `nfm_reply`, the inbox looks the token up again and hands the engine what was recorded.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from loket.channel.outgoing import FlowMessage, Text
from loket.conversation.turn import NewFlowSession, Turn
from loket.i18n.catalog import t
from loket.journeys.feedback_flow import flow_name

FLOW = "feedback"
# The customer service window is 24 hours; a form left open longer than that is stale anyway.
TOKEN_TTL = timedelta(hours=24)
TOKEN_BYTES = 32


def offer(turn: Turn) -> tuple[FlowMessage, NewFlowSession]:
    language = turn.language
    token = secrets.token_urlsafe(TOKEN_BYTES)
    message = FlowMessage(
        header=t(language, "feedback.header"),
        body=t(language, "feedback.invite", institution=turn.tenant.display_name),
        flow_token=token,
        flow_cta=t(language, "feedback.cta"),
        flow_name=flow_name(language),
        flow_action="data_exchange",
    )
    return message, NewFlowSession(token=token, flow=FLOW, expires_at=turn.now + TOKEN_TTL)


def thanks(turn: Turn) -> list[Text]:
    """The answer to the customer's `nfm_reply`, in their language."""
    language = turn.language
    result = turn.flow.result if turn.flow is not None else {}
    parts = [t(language, "feedback.thanks", reference=str(result.get("reference", "")))]
    if result.get("contact") is True:
        parts.append(t(language, "feedback.contact_yes", institution=turn.tenant.display_name))
    else:
        parts.append(t(language, "feedback.contact_no"))
    return [Text(body="\n\n".join(parts))]
