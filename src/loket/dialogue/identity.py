"""Who is writing: a WhatsApp number is bound to a customer only through the institution (CorePort
lookup of the registered phone number), on every turn, so a binding the institution withdraws is
withdrawn here too.

Access is never inherited. When WhatsApp says the customer changed number (a `system`
user_changed_number event from the old number), the old number loses its binding and is never
bound to that customer again, since the telco may give the number to someone else; the new number
is bound only if the institution has it registered. A new number that claims to be an existing
customer ("ini nomor baru saya") gets the public services like any stranger. When the binding
changes, or the customer's identity key changes (a new phone), elevation, pending step-ups and
journeys are forgotten.
"""

from __future__ import annotations

from typing import Any

from loket.conversation.state import forget_access
from loket.conversation.turn import NewSignal
from loket.core.port import CorePort, Customer
from loket.db.models import Conversation, InboundMessage

NUMBER_CHANGED = "user_changed_number"
IDENTITY_CHANGED = "customer_identity_changed"


def system_event(message: InboundMessage) -> str | None:
    if message.kind != "system":
        return None
    system = message.payload.get("system") if isinstance(message.payload, dict) else None
    kind = system.get("type") if isinstance(system, dict) else None
    return kind if isinstance(kind, str) else None


async def bind(
    core: CorePort, conversation: Conversation, message: InboundMessage
) -> tuple[Customer | None, list[NewSignal]]:
    """The customer this message is from (or None), updating the conversation's binding and state."""
    state: dict[str, Any] = dict(conversation.state or {})
    event = system_event(message)
    signals: list[NewSignal] = []
    if event == NUMBER_CHANGED:
        if conversation.customer_id is not None:
            state["unbound"] = conversation.customer_id
            signals.append(NewSignal("number_changed", {"customer_id": conversation.customer_id}))
        conversation.customer_id = None
        conversation.state = forget_access(state)
        return None, signals
    if event == IDENTITY_CHANGED:
        state = forget_access(state)
        signals.append(NewSignal("identity_changed", {"customer_id": conversation.customer_id}))
    customer = await core.find_customer_by_phone(conversation.tenant_id, "+" + conversation.wa_id)
    if customer is not None and customer.customer_id == state.get("unbound"):
        customer = None
    bound = customer.customer_id if customer is not None else None
    if bound != conversation.customer_id:
        if conversation.customer_id is not None:
            state = forget_access(state)
        conversation.customer_id = bound
    conversation.state = state
    return customer, signals
