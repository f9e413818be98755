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


@dataclass(slots=True)
class TurnResult:
    replies: list[OutgoingMessage] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
