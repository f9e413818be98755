"""An agent's reply: checked by the outbound policy gate before it is queued, then queued in the outbox
(never sent directly), so the dispatcher checks it again when it sends.

Inside the 24-hour customer service window any text goes; outside it only an approved template with
its parameters filled in. A refused reply is not queued: the caller shows the gate's rule, in the staff
member's language, and the text stays in the reply box.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from loket.channel.errors import InvalidOutgoingMessage
from loket.channel.outgoing import Template, Text, TextParam
from loket.console.assignment import take
from loket.console.bus import publish_after_commit
from loket.console.conversation_access import ConversationRef, find_conversation, record_action
from loket.console.conversation_services import ConversationServices
from loket.console.templates_pick import TemplateOption
from loket.outbound.outbox import Purpose, enqueue
from loket.outbound.policy import SERVICE_WINDOW, PolicyConfig, PolicyRequest
from loket.outbound.policy_content import PolicyInputError
from loket.outbound.policy_rules import Refuse, SwitchToTemplate

AGENT_ORIGIN = "agent:"
WINDOW_MARGIN = PolicyConfig().window_margin


class ReplyRefused(ValueError):
    """Not queued; `rule` is the policy gate's rule id (or a console check), for the catalog."""

    def __init__(self, rule: str, detail: str = "") -> None:
        super().__init__(f"{rule}: {detail}" if detail else rule)
        self.rule = rule
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Window:
    open: bool
    closes_at: datetime | None

    @classmethod
    def of(cls, last_inbound_at: datetime | None, now: datetime) -> Window:
        if last_inbound_at is None:
            return cls(False, None)
        closes = last_inbound_at + SERVICE_WINDOW - WINDOW_MARGIN
        return cls(now < closes, closes)

    def remaining(self, now: datetime) -> timedelta:
        return max(timedelta(0), self.closes_at - now) if self.closes_at else timedelta(0)


@dataclass(frozen=True, slots=True)
class Queued:
    idempotency_key: str
    handoff_id: int


def client_ref(value: str | None, now: datetime, *parts: str) -> str:
    """The form's one-time token makes a resubmitted form send once; without one, a content hash."""
    if value:
        return "".join(char for char in value if char.isalnum() or char in "-_")[:64] or "x"
    return hashlib.sha256("|".join((now.isoformat(), *parts)).encode()).hexdigest()[:24]


def text_payload(text: str) -> dict[str, Any]:
    body = text.strip()
    if not body:
        raise ReplyRefused("empty")
    message = Text(body=body)
    try:
        message.validate()
    except InvalidOutgoingMessage as exc:
        raise ReplyRefused("invalid", exc.field_path) from None
    return dict(message.to_payload())


def template_payload(option: TemplateOption, values: list[str]) -> dict[str, Any]:
    if len(values) != len(option.params):
        raise ReplyRefused("template_params")
    cleaned = [" ".join(value.split()) for value in values]
    if any(not value for value in cleaned):
        raise ReplyRefused("template_params")
    message = Template(name=option.name, language=option.language, body=tuple(TextParam(v) for v in cleaned))
    try:
        message.validate()
    except InvalidOutgoingMessage as exc:
        raise ReplyRefused("invalid", exc.field_path) from None
    return dict(message.to_payload())


async def check_gate(services: ConversationServices, ref: ConversationRef, payload: dict[str, Any]) -> None:
    """The policy gate, now, on this payload: raises ReplyRefused with the rule when it would not go."""
    assert services.facts is not None and services.policy is not None
    request = PolicyRequest(ref.tenant_id, ref.phone_number_id, ref.wa_id, Purpose.SERVICE, payload)
    try:
        facts = await services.facts.policy_facts(request)
    except PolicyInputError as exc:
        raise ReplyRefused("invalid", str(exc)[:100]) from None
    decision = services.policy.decide(facts)
    if isinstance(decision, Refuse | SwitchToTemplate):
        raise ReplyRefused(decision.rule_id)


async def queue_reply(
    services: ConversationServices,
    *,
    tenant_id: str,
    handoff_id: int,
    staff_id: str,
    payload: dict[str, Any],
    ref_token: str,
    action: str,
    detail: str | None = None,
) -> Queued:
    """Gate, then queue `payload` to the customer, mark the handoff answered, and audit it."""
    async with services.db.tenant_session(tenant_id) as session:
        ref = await find_conversation(session, tenant_id, handoff_id)
    ref.open_handoff()
    await check_gate(services, ref, payload)
    now = services.clock.now()
    async with services.db.tenant_session(tenant_id) as session:
        ref = await find_conversation(session, tenant_id, handoff_id, for_update=True)
        handoff = ref.open_handoff()
        key = f"agent:{handoff.id}:{ref_token}"
        await enqueue(
            session,
            dialect=services.db.dialect,
            tenant_id=ref.tenant_id,
            phone_number_id=ref.phone_number_id,
            to_wa_id=ref.wa_id,
            payload=payload,
            purpose=Purpose.SERVICE,
            idempotency_key=key,
            now=now,
            origin=f"{AGENT_ORIGIN}{staff_id}",
        )
        if handoff.assigned_to is None:
            # answering an unassigned chat takes it, as the inbox's "take" does (audited there)
            handoff = await take(session, tenant_id, handoff.id, staff_id, now)
        handoff.status = "active"
        handoff.first_reply_at = handoff.first_reply_at or now
        await record_action(session, ref, staff_id=staff_id, action=action, at=now, target=key, detail=detail)
        publish_after_commit(session, tenant_id, {"kind": "handoff.updated", "handoff_id": handoff_id})
    return Queued(key, handoff_id)
