"""Delivery statuses merge monotonically, and the result never depends on arrival order."""

from __future__ import annotations

from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loket.channel.inbound import merge_status, status_rank

KNOWN = ["sent", "delivered", "read", "played", "failed", "deleted"]
statuses = st.sampled_from([*KNOWN, "held_for_quality_assessment", "READ"]) | st.text(max_size=8)
prop = settings(max_examples=300, database=None)


def fold(arrivals: list[str]) -> str | None:
    initial: str | None = None
    return reduce(merge_status, arrivals, initial)


def test_rank_order() -> None:
    assert status_rank("sent") < status_rank("delivered") < status_rank("read") == status_rank("played")
    assert status_rank("sent") < status_rank("failed") < status_rank("delivered")
    assert max(status_rank(s) for s in KNOWN) == status_rank("deleted")
    assert status_rank("something_new") == 0 < status_rank("sent")


@pytest.mark.parametrize(
    ("arrivals", "expected"),
    [
        (["sent"], "sent"),
        (["sent", "delivered", "read"], "read"),
        (["read", "delivered"], "read"),  # a late delivered does not regress
        (["read", "sent"], "read"),
        (["sent", "read"], "read"),  # read without delivered implies delivery
        (["delivered", "failed"], "delivered"),  # multi-device: one device failed, another got it
        (["failed", "delivered"], "delivered"),
        (["failed", "read"], "read"),
        (["sent", "failed"], "failed"),
        (["failed", "sent"], "failed"),  # a late sent never revives a failure
        (["read", "played"], "played"),
        (["played", "read"], "played"),
        (["read", "deleted"], "deleted"),
        (["deleted", "read", "failed"], "deleted"),
        (["held_for_quality_assessment"], "held_for_quality_assessment"),  # unknown kept as-is
        (["held_for_quality_assessment", "sent"], "sent"),
        (["sent", "held_for_quality_assessment"], "sent"),
    ],
)
def test_merge_examples(arrivals: list[str], expected: str) -> None:
    assert fold(arrivals) == expected


def test_first_status_is_taken_as_is() -> None:
    assert merge_status(None, "failed") == "failed"


@prop
@given(st.lists(statuses, min_size=1, max_size=8).flatmap(lambda s: st.tuples(st.just(s), st.permutations(s))))
def test_result_is_independent_of_arrival_order(arrivals: tuple[list[str], list[str]]) -> None:
    original, shuffled = arrivals

    assert fold(original) == fold(shuffled)


@prop
@given(st.lists(statuses, min_size=1, max_size=8))
def test_result_depends_only_on_the_set_of_statuses(arrivals: list[str]) -> None:
    # Redeliveries (at-least-once) change nothing.
    assert fold(arrivals) == fold(sorted(set(arrivals)))


@prop
@given(statuses, statuses, statuses)
def test_merge_is_a_join(a: str, b: str, c: str) -> None:
    assert merge_status(a, b) == merge_status(b, a)
    assert merge_status(merge_status(a, b), c) == merge_status(a, merge_status(b, c))
    assert merge_status(a, a) == a
    assert merge_status(a, b) in (a, b)


@prop
@given(st.lists(statuses, min_size=1, max_size=8))
def test_rank_never_goes_down(arrivals: list[str]) -> None:
    current: str | None = None
    for incoming in arrivals:
        merged = merge_status(current, incoming)
        if current is not None:
            assert status_rank(merged) >= status_rank(current)
        current = merged
