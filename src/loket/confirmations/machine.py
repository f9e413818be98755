"""The confirmation state machine: what an answer, the expiry or a step-up result does. Pure.

    pending --Ya, saya--> confirmed                      (low risk)
    pending --Ya, saya--> step_up_pending --approved--> confirmed
                                          --rejected/expired--> step_up_failed
    pending | step_up_pending --Bukan saya--> denied     (hold the transaction, block the card, fraud signal)
    pending | step_up_pending --time passes expires_at--> expired
    any --Hubungi petugas--> (same state) the customer asked for a person

Every decided state is reported to the institution (a signed callback). "Bukan saya" wins over an
earlier "Ya": a customer who changes their mind while the step-up is open is believed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class State(enum.StrEnum):
    PENDING = "pending"
    STEP_UP_PENDING = "step_up_pending"
    CONFIRMED = "confirmed"
    DENIED = "denied"
    EXPIRED = "expired"
    STEP_UP_FAILED = "step_up_failed"


OPEN = frozenset({State.PENDING, State.STEP_UP_PENDING})


class Reply(enum.StrEnum):
    YES = "yes"
    NO = "no"
    AGENT = "agent"


class Effect(enum.StrEnum):
    REQUEST_STEP_UP = "request_step_up"
    HOLD_TRANSACTION = "hold_transaction"
    BLOCK_CARD = "block_card"
    FRAUD_SIGNAL = "fraud_signal"
    CALLBACK = "callback"  # tell the institution the decision
    AGENT_REQUESTED = "agent_requested"
    TELL_CONFIRMED = "tell_confirmed"
    TELL_DENIED = "tell_denied"
    TELL_STEP_UP = "tell_step_up"
    TELL_STEP_UP_FAILED = "tell_step_up_failed"
    TELL_EXPIRED = "tell_expired"
    TELL_ALREADY = "tell_already"
    TELL_AGENT = "tell_agent"


@dataclass(frozen=True, slots=True)
class Step:
    state: State
    effects: tuple[Effect, ...] = ()

    @property
    def decided(self) -> bool:
        return self.state not in OPEN


_DENY = (Effect.HOLD_TRANSACTION, Effect.BLOCK_CARD, Effect.FRAUD_SIGNAL, Effect.CALLBACK, Effect.TELL_DENIED)
_EXPIRE = (Effect.FRAUD_SIGNAL, Effect.CALLBACK, Effect.TELL_EXPIRED)
_CONFIRM = (Effect.CALLBACK, Effect.TELL_CONFIRMED)


def needs_step_up(risk: str, amount: int, high_value: int) -> bool:
    """High-risk requests, and any at or above the tenant's high-value amount, need the app's step-up."""
    return risk == "high" or amount >= high_value


def expire(state: State, now: datetime, expires_at: datetime) -> Step | None:
    if state in OPEN and now >= expires_at:
        return Step(State.EXPIRED, _EXPIRE)
    return None


def answer(state: State, reply: Reply, *, now: datetime, expires_at: datetime, step_up: bool) -> Step:
    if reply is Reply.AGENT:
        return Step(state, (Effect.AGENT_REQUESTED, Effect.TELL_AGENT))
    expired = expire(state, now, expires_at)
    if expired is not None:
        return expired
    if state not in OPEN:
        return Step(state, (Effect.TELL_ALREADY,))
    if reply is Reply.NO:
        return Step(State.DENIED, _DENY)
    if state is State.STEP_UP_PENDING:
        return Step(state, (Effect.TELL_STEP_UP,))  # a second "Ya": remind them of the app
    if step_up:
        return Step(State.STEP_UP_PENDING, (Effect.REQUEST_STEP_UP, Effect.TELL_STEP_UP))
    return Step(State.CONFIRMED, _CONFIRM)


def step_up_result(state: State, status: str) -> Step | None:
    """`status` is the core's StepUpStatus value; None while it is still pending."""
    if state is not State.STEP_UP_PENDING or status == "pending":
        return None
    if status == "approved":
        return Step(State.CONFIRMED, _CONFIRM)
    return Step(State.STEP_UP_FAILED, (Effect.FRAUD_SIGNAL, Effect.CALLBACK, Effect.TELL_STEP_UP_FAILED))
