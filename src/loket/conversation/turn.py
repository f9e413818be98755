"""What the engine is given for one customer message, and what it gives back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from loket.core.port import Customer


class OutgoingMessage(Protocol):
    def to_payload(self) -> Mapping[str, Any]:
        """The Cloud API `type` + type-object body; raises if a limit is broken."""
        ...


@dataclass(frozen=True, slots=True)
class TenantView:
    tenant_id: str
    display_name: str
    kind: str  # bank, insurer, lender
    call_centre: str
    default_language: str = "id"
    legal_name: str = ""
    # The tenant's registry of official channels (numbers, domains, social accounts), as stored.
    official: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FlowCompletion:
    """A WhatsApp Flow this customer finished, as Loket recorded it (never the raw form contents)."""

    flow: str
    result: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewFlowSession:
    """A Flow the engine is sending; the inbox stores it (bound to tenant and customer) with the reply."""

    token: str = field(repr=False)
    flow: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class MediaView:
    """What the engine may know of a file the customer sent: never its content."""

    filename: str | None = None
    mime_type: str | None = None
    voice: bool = False


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A file to send: the inbox seals it, uploads it after the commit and sends it as a document."""

    data: bytes = field(repr=False)
    filename: str
    caption: str
    mime_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class NewSignal:
    """A security-relevant fact for the monitoring work: kinds and ids only, never a secret."""

    kind: str  # secret_shared, compromise_reported, scam_reported, step_up_rejected, number_changed, ...
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PrivacyAsk:
    """A data-subject request the customer made (`open`) or the step-up that verified their identity
    for the open ones (`verified`); the inbox records it with its legal clock (loket.privacy.intake)."""

    action: str  # open, verified
    right: str = ""  # loket.privacy.model.Right value; empty for `verified`
    reference: str = ""
    purpose: str | None = None


@dataclass(frozen=True, slots=True)
class ComplaintAsk:
    """A complaint to register (`file`) or one whose status the customer asks (`status`); the inbox
    records it and answers with the reference number and deadline (loket.complaints.intake)."""

    action: str  # file, status
    reference: str = ""  # for `status`
    product: str = ""
    cause: str = ""
    amount: int | None = None
    incident_date: str | None = None  # ISO date
    summary: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    """Hand the conversation to a person: why, and what the customer wanted (no secrets)."""

    reason: str  # asked, not_understood, angry, complaint, compromised, ...
    summary: str


@dataclass(frozen=True, slots=True)
class Turn:
    tenant: TenantView
    customer: Customer | None
    language: str
    kind: str  # loket.channel.inbound_models.MessageKind value
    text: str | None
    reply_id: str | None
    now: datetime
    state: dict[str, Any] = field(default_factory=dict)
    first_contact: bool = False
    # For a `flow_reply`: the Flow it completes, when it belongs to this customer; None otherwise.
    flow: FlowCompletion | None = None
    # Kinds of secret the shield redacted from this message before it was stored ("otp", "pin", ...).
    redactions: tuple[str, ...] = ()
    forwarded: bool = False
    media: MediaView | None = None
    # For Loket's own events (a step-up request that changed state): what the event is about.
    event_ref: str | None = None
    # Whether the human handoff recorded in `state` is still open (the inbox checks its queue).
    handoff_open: bool = False


@dataclass(slots=True)
class TurnResult:
    replies: list[OutgoingMessage] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
    flow_sessions: list[NewFlowSession] = field(default_factory=list)
    documents: list[NewDocument] = field(default_factory=list)
    signals: list[NewSignal] = field(default_factory=list)
    handoff: HandoffRequest | None = None
    privacy: list[PrivacyAsk] = field(default_factory=list)
    complaints: list[ComplaintAsk] = field(default_factory=list)
