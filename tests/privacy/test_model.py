"""The request state machine and its legal clock (UU PDP 3x24 hours in clock hours: TZ-9, PDP-R2/R3/R7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loket.privacy.model import (
    Right,
    Status,
    TransitionError,
    check_reason,
    check_transition,
    due_at,
    first_status,
    is_overdue,
    new_reference,
    valid_reference,
)


def test_the_clock_is_72_clock_hours_and_skips_no_weekend_or_holiday() -> None:
    friday_evening = datetime(2026, 12, 24, 11, 30, tzinfo=UTC)  # 18:30 WIB, the day before Christmas
    assert due_at(friday_evening) == datetime(2026, 12, 27, 11, 30, tzinfo=UTC)
    assert due_at(friday_evening) - friday_evening == timedelta(hours=72)
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(datetime(2026, 12, 24, 11, 30))


def test_access_and_erasure_wait_for_the_identity_the_rest_do_not() -> None:
    assert first_status(Right.ACCESS, verified=False) is Status.VERIFYING
    assert first_status(Right.ERASURE, verified=False) is Status.VERIFYING
    assert first_status(Right.ERASURE, verified=True) is Status.IN_PROGRESS
    for right in (Right.CORRECTION, Right.CONSENT_WITHDRAWAL, Right.OBJECTION):
        assert first_status(right, verified=False) is Status.IN_PROGRESS


def test_transitions() -> None:
    check_transition(Status.VERIFYING, Status.IN_PROGRESS, right=Right.ACCESS, verified=True)
    check_transition(Status.VERIFYING, Status.REJECTED, right=Right.ACCESS, verified=False)
    with pytest.raises(TransitionError, match="identity verified"):
        check_transition(Status.VERIFYING, Status.IN_PROGRESS, right=Right.ERASURE, verified=False)
    with pytest.raises(TransitionError, match="from completed to in_progress"):
        check_transition(Status.COMPLETED, Status.IN_PROGRESS, right=Right.CORRECTION, verified=False)
    with pytest.raises(TransitionError, match="from verifying to completed"):
        check_transition(Status.VERIFYING, Status.COMPLETED, right=Right.ACCESS, verified=True)
    with pytest.raises(TransitionError, match="unknown rejection reason"):
        check_reason("because")
    assert check_reason("legal_hold") == "legal_hold"


def test_overdue_only_while_open() -> None:
    due = datetime(2026, 12, 1, tzinfo=UTC)
    assert is_overdue(Status.IN_PROGRESS, due, due)
    assert not is_overdue(Status.IN_PROGRESS, due, due - timedelta(seconds=1))
    assert not is_overdue(Status.COMPLETED, due, due + timedelta(days=9))


def test_references_are_random_and_checked() -> None:
    made = {new_reference() for _ in range(200)}
    assert len(made) == 200 and all(valid_reference(r) for r in made)
    assert not valid_reference("PDP-123") and not valid_reference("pdp-ABCDEFGHJK")
