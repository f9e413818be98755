"""What a journey is: a small step machine the engine starts, advances, resumes and cancels.

A journey is started with what the customer said (text and entities, or a tapped choice) and
answers with an Outcome: the replies, and either the next step with the data it needs to resume,
or nothing (done). Journeys never keep customer data in their step data beyond ids and dates: the
core is asked again on every step (the institution's ledger is the truth, not a copy in Loket).

Buttons a journey shows carry its instance id (`j:<journey>:<instance>:<value>`), so a tap on a
button of an earlier, finished or timed-out journey is recognised as stale instead of acting on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from loket.conversation.turn import (
    ComplaintAsk,
    HandoffRequest,
    MediaView,
    NewDocument,
    NewSignal,
    OutgoingMessage,
    PrivacyAsk,
    TenantView,
    Turn,
)
from loket.core.port import CorePort, Customer
from loket.understanding import Entities, Intent

JOURNEY_PREFIX = "j:"
ACTION_PREFIX = "act:"


@dataclass(frozen=True, slots=True)
class Given:
    """What the customer gave the journey this turn."""

    text: str | None = None
    choice: str | None = None  # the value of a tapped journey button
    kind: str = "text"
    entities: Entities | None = None
    intent: Intent | None = None
    media: MediaView | None = None
    forwarded: bool = False


@dataclass(slots=True)
class Outcome:
    replies: list[OutgoingMessage] = field(default_factory=list)
    step: str | None = None  # None: the journey is done
    data: dict[str, Any] = field(default_factory=dict)
    documents: list[NewDocument] = field(default_factory=list)
    signals: list[NewSignal] = field(default_factory=list)
    handoff: HandoffRequest | None = None
    privacy: list[PrivacyAsk] = field(default_factory=list)
    complaints: list[ComplaintAsk] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Context:
    core: CorePort
    turn: Turn
    instance: str
    journey: str

    @property
    def language(self) -> str:
        return self.turn.language

    @property
    def tenant(self) -> TenantView:
        return self.turn.tenant

    @property
    def customer(self) -> Customer:
        """Only for journeys that need a customer: the engine never starts them without one."""
        assert self.turn.customer is not None
        return self.turn.customer

    @property
    def now(self) -> datetime:
        return self.turn.now

    @property
    def zone(self) -> str:
        return self.turn.customer.timezone if self.turn.customer is not None else "Asia/Jakarta"

    def button(self, value: str) -> str:
        """The reply id of a button of this journey instance."""
        return f"{JOURNEY_PREFIX}{self.journey}:{self.instance}:{value}"


class Journey(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def kinds(self) -> frozenset[str] | None:
        """Tenant kinds it exists for; None: every kind."""
        ...

    @property
    def needs_customer(self) -> bool: ...

    @property
    def step_up(self) -> bool:
        """Whether the customer must have passed a step-up first."""
        ...

    async def start(self, ctx: Context, given: Given) -> Outcome: ...

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome: ...


def parse_button(reply_id: str) -> tuple[str, str, str] | None:
    """(journey, instance, value) of a journey button id, or None when it is not one."""
    if not reply_id.startswith(JOURNEY_PREFIX):
        return None
    parts = reply_id[len(JOURNEY_PREFIX) :].split(":", 2)
    if len(parts) != 3 or not all(parts[:2]):
        return None
    return parts[0], parts[1], parts[2]


def action(name: str, value: str = "") -> str:
    """The reply id of a button that starts something afresh (never stale): `act:<name>[:<value>]`."""
    return f"{ACTION_PREFIX}{name}:{value}" if value else f"{ACTION_PREFIX}{name}"


def parse_action(reply_id: str) -> tuple[str, str] | None:
    if not reply_id.startswith(ACTION_PREFIX):
        return None
    name, _, value = reply_id[len(ACTION_PREFIX) :].partition(":")
    return (name, value) if name else None


def pick(options: Sequence[str], wanted: str | None) -> str | None:
    return wanted if wanted in options else None
