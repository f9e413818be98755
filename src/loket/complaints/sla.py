"""The complaint SLA clock in working days (ojk-compliance.md CMP-2, TZ-8), as pure functions.

Conventions (docs/complaints.md):
- A clock segment starts on the working day a moment *counts as* received: that day when it is a
  working day before the office closes (in the institution's office zone), else the next working day.
  That day is day 0; the deadline is the n-th working day after it, due at closing time.
- A pause (documents missing) stops the clock. Working days after the segment start up to and including
  the pause's own date are used up; on resuming, a new segment starts (day 0 again) with what is left.
- A written complaint whose documents are incomplete on receipt starts paused: its 10 days count from
  complete documents. An oral complaint has 5 working days.
- One extension of 1..10 working days, allowed only when the customer was notified before the first
  deadline passed; it adds to the budget.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loket.compliance.calendar import HolidayCalendar
from loket.compliance.zones import WIB

ORAL_DAYS = 5
WRITTEN_DAYS = 10
MAX_EXTENSION_DAYS = 10
DOCUMENTS_DAYS = 10  # CMP-2: the consumer has 10 working days to complete missing documents


class Form(enum.StrEnum):
    ORAL = "oral"
    WRITTEN = "written"


class SlaError(ValueError):
    """A clock operation the rules do not allow; the message says why."""


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """The institution's settings of the clock: office zone and closing hour, reminder offsets."""

    zone: ZoneInfo = WIB
    office_close: time = time(17, 0)
    oral_days: int = ORAL_DAYS
    written_days: int = WRITTEN_DAYS
    max_extension_days: int = MAX_EXTENSION_DAYS
    documents_days: int = DOCUMENTS_DAYS
    # Working days before a deadline at which staff get a reminder; 3 before a 10-day deadline is
    # day 7, the escalation alert of CMP-2's design notes.
    reminder_days_before: tuple[int, ...] = (3, 1)

    def base_days(self, form: Form) -> int:
        return self.oral_days if form is Form.ORAL else self.written_days


@dataclass(frozen=True, slots=True)
class Pause:
    started_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClockState:
    """Everything the clock depends on; stored with the complaint."""

    form: Form
    received_at: datetime
    pauses: tuple[Pause, ...] = ()
    extension_days: int = 0
    extension_notified_at: datetime | None = None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].ended_at is None

    def to_json(self) -> dict[str, object]:
        return {
            "form": self.form.value,
            "received_at": self.received_at.isoformat(),
            "pauses": [
                {"started_at": p.started_at.isoformat(), "ended_at": p.ended_at.isoformat() if p.ended_at else None}
                for p in self.pauses
            ],
            "extension_days": self.extension_days,
            "extension_notified_at": self.extension_notified_at.isoformat() if self.extension_notified_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ClockState:
        def moment(value: object) -> datetime | None:
            return None if value is None else datetime.fromisoformat(str(value))

        raw_pauses = data.get("pauses") or []
        assert isinstance(raw_pauses, list)
        pauses = []
        for item in raw_pauses:
            started = moment(item["started_at"])
            assert started is not None
            pauses.append(Pause(started, moment(item.get("ended_at"))))
        received = moment(data["received_at"])
        assert received is not None
        extension = data.get("extension_days", 0)
        return cls(
            form=Form(str(data["form"])),
            received_at=received,
            pauses=tuple(pauses),
            extension_days=int(extension) if isinstance(extension, int | str) else 0,
            extension_notified_at=moment(data.get("extension_notified_at")),
        )


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None:
        raise SlaError(f"{name} must be timezone-aware")


def new_clock(form: Form, received_at: datetime, *, documents_complete: bool = True) -> ClockState:
    """A clock for a complaint received at `received_at`; written and incomplete starts paused."""
    _aware(received_at, "received_at")
    pauses = (Pause(received_at),) if form is Form.WRITTEN and not documents_complete else ()
    return ClockState(form=form, received_at=received_at, pauses=pauses)


def pause(state: ClockState, at: datetime) -> ClockState:
    _aware(at, "at")
    if state.paused:
        raise SlaError("the clock is already paused (documents already requested)")
    if at < state.received_at or (state.pauses and state.pauses[-1].ended_at and at < state.pauses[-1].ended_at):
        raise SlaError("a pause cannot start before the clock's last change")
    return replace(state, pauses=(*state.pauses, Pause(at)))


def resume(state: ClockState, at: datetime) -> ClockState:
    _aware(at, "at")
    if not state.paused:
        raise SlaError("the clock is not paused")
    last = state.pauses[-1]
    if at < last.started_at:
        raise SlaError("the clock cannot resume before it was paused")
    return replace(state, pauses=(*state.pauses[:-1], Pause(last.started_at, at)))


def start_day(calendar: HolidayCalendar, moment: datetime, policy: SlaPolicy) -> date:
    """The working day `moment` counts on (after closing, weekends and days off: the next one)."""
    return calendar.sla_start(moment, zone=policy.zone, office_close=policy.office_close)


def working_days_between(calendar: HolidayCalendar, after: date, through: date) -> int:
    """Working days d with after < d <= through (0 when through <= after)."""
    count, day = 0, after
    while day < through:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class Reading:
    """What the clock says at one moment."""

    budget: int  # base days plus any extension
    used: int  # working days used up so far (whole days, day 0 excluded)
    paused: bool
    deadline: date | None  # None while paused
    due_at: datetime | None
    first_deadline: date | None  # the deadline without the extension (None while paused)
    remaining: int | None  # working days from today to the deadline; negative when breached
    breached: bool
    documents_due: date | None = None  # while paused for documents: the customer's own deadline
    reminders: tuple[date, ...] = field(default_factory=tuple)


def _segments(state: ClockState, calendar: HolidayCalendar, policy: SlaPolicy) -> tuple[int, date | None]:
    """Working days used by closed segments, and the start day of the running segment (None if paused)."""
    used = 0
    seg_start: datetime | None = state.received_at
    for p in state.pauses:
        if seg_start is not None:
            used += working_days_between(
                calendar, start_day(calendar, seg_start, policy), p.started_at.astimezone(policy.zone).date()
            )
        seg_start = p.ended_at
    return used, None if seg_start is None else start_day(calendar, seg_start, policy)


def due_moment(day: date, policy: SlaPolicy) -> datetime:
    return datetime.combine(day, policy.office_close, tzinfo=policy.zone)


def read(state: ClockState, now: datetime, calendar: HolidayCalendar, policy: SlaPolicy | None = None) -> Reading:
    policy = policy or SlaPolicy()
    _aware(now, "now")
    base = policy.base_days(state.form)
    budget = base + state.extension_days
    used, running_from = _segments(state, calendar, policy)
    today = now.astimezone(policy.zone).date()
    if running_from is None:
        started = state.pauses[-1].started_at
        documents_due = calendar.add_working_days(start_day(calendar, started, policy), policy.documents_days)
        return Reading(budget, used, True, None, None, None, None, False, documents_due)
    left = max(budget - used, 0)
    deadline = calendar.add_working_days(running_from, left)
    first = calendar.add_working_days(running_from, max(base - used, 0))
    due = due_moment(deadline, policy)
    if today <= deadline:
        remaining = working_days_between(calendar, today, deadline)
    else:
        remaining = -working_days_between(calendar, deadline, today)
    reminders = tuple(
        sorted({_working_days_before(calendar, deadline, n) for n in policy.reminder_days_before if n > 0})
    )
    return Reading(
        budget=budget,
        used=used + working_days_between(calendar, running_from, min(today, deadline)),
        paused=False,
        deadline=deadline,
        due_at=due,
        first_deadline=first,
        remaining=remaining,
        breached=now >= due,
        reminders=reminders,
    )


def _working_days_before(calendar: HolidayCalendar, day: date, n: int) -> date:
    found, candidate = 0, day
    while found < n:
        candidate -= timedelta(days=1)
        if calendar.is_working_day(candidate):
            found += 1
    return candidate


def extension_allowed(
    state: ClockState, notified_at: datetime | None, calendar: HolidayCalendar, policy: SlaPolicy | None = None
) -> str | None:
    """Why an extension cannot be recorded now, or None when it can."""
    policy = policy or SlaPolicy()
    if state.extension_days:
        return "already_extended"
    if state.paused:
        return "paused"
    if notified_at is None:
        return "customer_not_notified"
    _aware(notified_at, "notified_at")
    reading = read(state, notified_at, calendar, policy)
    assert reading.first_deadline is not None
    if notified_at >= due_moment(reading.first_deadline, policy):
        return "notified_after_deadline"
    return None


def extend(
    state: ClockState,
    days: int,
    notified_at: datetime | None,
    calendar: HolidayCalendar,
    policy: SlaPolicy | None = None,
) -> ClockState:
    policy = policy or SlaPolicy()
    if not 1 <= days <= policy.max_extension_days:
        raise SlaError(f"an extension is 1 to {policy.max_extension_days} working days")
    refusal = extension_allowed(state, notified_at, calendar, policy)
    if refusal is not None:
        raise SlaError(refusal)
    return replace(state, extension_days=days, extension_notified_at=notified_at)


class Urgency(enum.StrEnum):
    PAUSED = "paused"
    OK = "ok"
    SOON = "soon"  # within the last reminder window
    DUE_TODAY = "due_today"
    BREACHED = "breached"


def urgency(reading: Reading, policy: SlaPolicy | None = None) -> Urgency:
    policy = policy or SlaPolicy()
    if reading.paused or reading.remaining is None:
        return Urgency.PAUSED
    if reading.breached:
        return Urgency.BREACHED
    if reading.remaining <= 0:
        return Urgency.DUE_TODAY
    if reading.remaining <= max(policy.reminder_days_before, default=0):
        return Urgency.SOON
    return Urgency.OK


@dataclass(frozen=True, slots=True)
class Alert:
    """A staff alert that is due: a reminder before a deadline or the breach itself; `key` is unique."""

    key: str
    kind: str  # reminder | breach | documents_reminder | documents_overdue
    deadline: date


def due_alerts(reading: Reading, now: datetime, calendar: HolidayCalendar, policy: SlaPolicy) -> Sequence[Alert]:
    """Alerts whose moment has come (the scheduled pass inserts them once each, by key)."""
    today = now.astimezone(policy.zone).date()
    alerts: list[Alert] = []
    if reading.paused:
        if reading.documents_due is not None:
            due = reading.documents_due
            before = _working_days_before(calendar, due, 1)
            if today >= before:
                alerts.append(
                    Alert(f"documents:{reading.documents_due}:1", "documents_reminder", reading.documents_due)
                )
            if now >= due_moment(due, policy):
                alerts.append(
                    Alert(f"documents:{reading.documents_due}:overdue", "documents_overdue", reading.documents_due)
                )
        return alerts
    assert reading.deadline is not None
    for day in reading.reminders:
        if today >= day:
            n = working_days_between(calendar, day, reading.deadline)
            alerts.append(Alert(f"response:{reading.deadline}:{n}", "reminder", reading.deadline))
    if reading.breached:
        alerts.append(Alert(f"response:{reading.deadline}:breach", "breach", reading.deadline))
    return alerts
