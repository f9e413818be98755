"""The confirmation state machine, exhaustively over its states and answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loket.confirmations.compose import button_id, parse_button
from loket.confirmations.machine import Effect, Reply, State, answer, expire, needs_step_up, step_up_result

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)


@pytest.mark.parametrize(
    ("state", "reply", "step_up", "expected"),
    [
        (State.PENDING, Reply.YES, False, State.CONFIRMED),
        (State.PENDING, Reply.YES, True, State.STEP_UP_PENDING),
        (State.PENDING, Reply.NO, False, State.DENIED),
        (State.STEP_UP_PENDING, Reply.NO, True, State.DENIED),
        (State.STEP_UP_PENDING, Reply.YES, True, State.STEP_UP_PENDING),
        (State.CONFIRMED, Reply.NO, False, State.CONFIRMED),
        (State.DENIED, Reply.YES, False, State.DENIED),
        (State.EXPIRED, Reply.YES, False, State.EXPIRED),
    ],
)
def test_answers(state: State, reply: Reply, step_up: bool, expected: State) -> None:
    assert answer(state, reply, now=NOW, expires_at=LATER, step_up=step_up).state is expected


def test_denial_blocks_signals_and_reports() -> None:
    step = answer(State.PENDING, Reply.NO, now=NOW, expires_at=LATER, step_up=False)
    assert {
        Effect.HOLD_TRANSACTION,
        Effect.BLOCK_CARD,
        Effect.FRAUD_SIGNAL,
        Effect.CALLBACK,
        Effect.TELL_DENIED,
    } <= set(step.effects)


def test_an_answer_after_expiry_expires_it() -> None:
    step = answer(State.PENDING, Reply.YES, now=LATER, expires_at=LATER, step_up=False)
    assert step.state is State.EXPIRED and Effect.CALLBACK in step.effects
    assert expire(State.CONFIRMED, LATER, LATER) is None
    assert expire(State.PENDING, NOW, LATER) is None


def test_asking_for_a_person_never_changes_the_state() -> None:
    for state in State:
        step = answer(state, Reply.AGENT, now=LATER, expires_at=NOW, step_up=False)
        assert step.state is state and Effect.AGENT_REQUESTED in step.effects


def test_step_up_results() -> None:
    assert step_up_result(State.STEP_UP_PENDING, "pending") is None
    assert step_up_result(State.PENDING, "approved") is None
    assert step_up_result(State.STEP_UP_PENDING, "approved").state is State.CONFIRMED  # type: ignore[union-attr]
    for status in ("rejected", "expired"):
        assert step_up_result(State.STEP_UP_PENDING, status).state is State.STEP_UP_FAILED  # type: ignore[union-attr]


def test_high_risk_or_high_value_needs_step_up() -> None:
    assert needs_step_up("high", 1, 10_000_000)
    assert needs_step_up("low", 10_000_000, 10_000_000)
    assert not needs_step_up("medium", 9_999_999, 10_000_000)


def test_button_ids_round_trip_and_reject_junk() -> None:
    assert parse_button(button_id("cfm_abc", Reply.NO)) == ("cfm_abc", Reply.NO)
    assert parse_button("cfm:cfm_abc:maybe") is None
    assert parse_button("menu:balance") is None
