"""The time-based rules of the gate: contact hours and frequency caps, and the exact next slot.

Each rule answers two questions: does it block `at` (and why), and what is the earliest moment
>= `at` it allows. The next slot is where all of them agree, found by moving forward until none
moves the candidate any more (each step only moves forward, so the first agreement is the earliest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from loket.compliance.calendar import CalendarError, HolidayCalendar
from loket.compliance.hours import Closed, ContactHours, closure, next_open
from loket.compliance.zones import ContactZone
from loket.outbound.policy_rules import Purpose, Rule

DAY = timedelta(hours=24)
WEEK = timedelta(days=7)
_MAX_ROUNDS = 1000


class TimeRule(Protocol):
    def blocks(self, at: datetime) -> tuple[Rule, str] | None: ...

    def next_allowed(self, at: datetime) -> datetime: ...


@dataclass(frozen=True, slots=True)
class HoursRule:
    hours: ContactHours
    zone: ContactZone
    calendar: HolidayCalendar
    hours_rule: Rule
    holiday_rule: Rule
    label: str  # "marketing" or "collection"

    def blocks(self, at: datetime) -> tuple[Rule, str] | None:
        closed = closure(self.hours, at, self.zone, self.calendar)
        if closed is None:
            return None
        rule = self.holiday_rule if closed.reason in (Closed.HOLIDAY, Closed.COLLECTIVE_LEAVE) else self.hours_rule
        return rule, f"{self.label} allowed Mon-Sat {self.hours.describe()} local; now {closed.describe()}"

    def next_allowed(self, at: datetime) -> datetime:
        return next_open(self.hours, at, self.zone, self.calendar)


@dataclass(frozen=True, slots=True)
class CapRule:
    """At most `limit` sends of one purpose in any rolling `window` (24 hours or 7 days)."""

    sends: tuple[datetime, ...]  # sorted, UTC
    window: timedelta
    limit: int
    rule: Rule
    label: str

    def _counted(self, at: datetime) -> list[datetime]:
        # Sends stamped after `at` (clock skew between workers) still count: the safe side.
        return [sent for sent in self.sends if sent > at - self.window]

    def blocks(self, at: datetime) -> tuple[Rule, str] | None:
        counted = len(self._counted(at))
        if counted < self.limit:
            return None
        return self.rule, f"{counted} {self.label} messages in the last {_span(self.window)}; the cap is {self.limit}"

    def next_allowed(self, at: datetime) -> datetime:
        counted = self._counted(at)
        if len(counted) < self.limit:
            return at
        # Once this send leaves the window, limit - 1 remain (later ones, ties included, stay out).
        return max(at, counted[len(counted) - self.limit] + self.window)


def _span(window: timedelta) -> str:
    return "24 hours" if window == DAY else f"{window.days} days" if window.days else str(window)


_CAP_RULES = {
    Purpose.MARKETING: (Rule.CAP_MARKETING_DAILY, Rule.CAP_MARKETING_WEEKLY),
    Purpose.COLLECTION: (Rule.CAP_COLLECTION_DAILY, Rule.CAP_COLLECTION_WEEKLY),
}


def cap_rules(purpose: Purpose, per_day: int | None, per_week: int | None, sends: Sequence[datetime]) -> list[CapRule]:
    daily, weekly = _CAP_RULES.get(purpose, (Rule.CAP_OTHER_DAILY, Rule.CAP_OTHER_WEEKLY))
    ordered = tuple(sorted(sent.astimezone(UTC) for sent in sends))
    rules = []
    if per_day is not None:
        rules.append(CapRule(ordered, DAY, per_day, daily, purpose.value))
    if per_week is not None:
        rules.append(CapRule(ordered, WEEK, per_week, weekly, purpose.value))
    return rules


def first_block(rules: Sequence[TimeRule], at: datetime) -> tuple[Rule, str] | None:
    for rule in rules:
        blocked = rule.blocks(at)
        if blocked is not None:
            return blocked
    return None


def next_slot(rules: Sequence[TimeRule], at: datetime) -> datetime:
    """The earliest moment >= `at` that every rule allows."""
    candidate = at
    for _ in range(_MAX_ROUNDS):
        moved = candidate
        for rule in rules:
            moved = rule.next_allowed(moved)
        if moved == candidate:
            return candidate
        candidate = moved
    raise CalendarError("the time rules never agree on a slot; check the calendar and the caps")
