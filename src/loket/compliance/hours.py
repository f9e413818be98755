"""Contact hours in the customer's own time: is a moment allowed, and when is the next allowed one.

OFR-5 / TZ-5: offers Monday-Saturday 08:00-18:00 local, never on national holidays.
COL-2(f) / TZ-5: collection Monday-Saturday 08:00-20:00 local, never on national holidays.
TZ-7: cuti bersama blocks both while the calendar's flag is on (the default).
TZ-4: with an unknown zone the moment must be allowed in WIB, WITA and WIT at once.
Windows are half-open: 08:00:00 is inside, 18:00:00 is outside.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loket.compliance.calendar import SEARCH_DAYS, CalendarError, HolidayCalendar
from loket.compliance.zones import ContactZone

MONDAY_TO_SATURDAY = frozenset(range(6))


class Closed(enum.Enum):
    """Why a moment is outside the contact hours; ordered from most to least specific."""

    HOLIDAY = "national holiday"
    COLLECTIVE_LEAVE = "cuti bersama"
    CLOSED_DAY = "day of the week"
    OUTSIDE_HOURS = "time of day"


@dataclass(frozen=True, slots=True)
class ContactHours:
    opens: time
    closes: time
    days: frozenset[int] = MONDAY_TO_SATURDAY  # date.weekday(): Monday is 0
    # Off only for hours the customer agreed to outside the rule (COL-3); never for the rule itself.
    closed_on_days_off: bool = True

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("contact hours are wall-clock times without a zone")
        if not self.opens < self.closes:
            raise ValueError("contact hours must open before they close on the same day")
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError("days must be a non-empty set of weekdays 0-6")

    def describe(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


OFFER_HOURS = ContactHours(time(8, 0), time(18, 0))
COLLECTION_HOURS = ContactHours(time(8, 0), time(20, 0))


@dataclass(frozen=True, slots=True)
class Closure:
    reason: Closed
    zone: ZoneInfo
    local: datetime  # the moment in that zone
    detail: str  # e.g. the holiday's name

    def describe(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.local:%a %Y-%m-%d %H:%M} {self.zone.key}: {self.reason.value}{detail}"


def _day_closure(hours: ContactHours, calendar: HolidayCalendar, local: datetime) -> tuple[Closed, str] | None:
    day = local.date()
    if hours.closed_on_days_off:
        holiday = calendar.holiday_name(day)
        if holiday is not None:
            return Closed.HOLIDAY, holiday
        if calendar.overrides.collective_leave_is_day_off:
            leave = calendar.collective_leave_name(day)
            if leave is not None:
                return Closed.COLLECTIVE_LEAVE, leave
    if day.weekday() not in hours.days:
        return Closed.CLOSED_DAY, f"{local:%A}"
    return None


def closure(hours: ContactHours, at: datetime, zone: ContactZone, calendar: HolidayCalendar) -> Closure | None:
    """None when `at` is inside the hours in every zone of `zone`; otherwise the first reason why not."""
    _aware(at)
    for tz in zone.zones:
        local = at.astimezone(tz)
        day = _day_closure(hours, calendar, local)
        if day is not None:
            return Closure(day[0], tz, local, day[1])
        if not hours.opens <= local.time() < hours.closes:
            return Closure(Closed.OUTSIDE_HOURS, tz, local, hours.describe())
    return None


def _next_open_in(hours: ContactHours, at: datetime, tz: ZoneInfo, calendar: HolidayCalendar) -> datetime:
    local = at.astimezone(tz)
    day = local.date()
    for _ in range(SEARCH_DAYS):
        start = datetime.combine(day, hours.opens, tz)
        if _day_closure(hours, calendar, start) is None:
            end = datetime.combine(day, hours.closes, tz)
            if local < end:
                return max(local, start).astimezone(UTC)
        day += timedelta(days=1)
    raise CalendarError(f"no contact hours within {SEARCH_DAYS} days after {local:%Y-%m-%d} in {tz.key}")


def next_open(hours: ContactHours, at: datetime, zone: ContactZone, calendar: HolidayCalendar) -> datetime:
    """The earliest moment >= `at` (UTC) inside the hours in every zone of `zone`.

    Across several zones, moving to the next opening in one zone can land outside another (a
    holiday that starts earlier in WIT, say), so this repeats until all zones agree; each step only
    moves forward and every day's windows overlap (TZ-4), so it settles within a few rounds.
    """
    _aware(at)
    candidate = at.astimezone(UTC)
    for _ in range(SEARCH_DAYS):
        moved = candidate
        for tz in zone.zones:
            moved = _next_open_in(hours, moved, tz, calendar)
        if moved == candidate:
            return candidate
        candidate = moved
    raise CalendarError(f"contact hours {hours.describe()} never open in all of {zone.label}")


def _aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
