from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from loket.compliance.calendar import CalendarOverrides, HolidayCalendar
from loket.compliance.hours import (
    COLLECTION_HOURS,
    OFFER_HOURS,
    Closed,
    ContactHours,
    closure,
    next_open,
)
from loket.compliance.zones import UNKNOWN_ZONE, WIB, WIT, WITA, ContactZone

CALENDAR = HolidayCalendar()
ZONES = [WIB, WITA, WIT]


def only(zone: ZoneInfo) -> ContactZone:
    return ContactZone((zone,), zone.key)


def local(zone: ZoneInfo, month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize("zone", ZONES, ids=lambda zone: zone.key)
@pytest.mark.parametrize(
    ("hours", "inside", "outside"),
    [
        (OFFER_HOURS, [(8, 0), (17, 59)], [(7, 59), (18, 0)]),
        (COLLECTION_HOURS, [(8, 0), (19, 59)], [(7, 59), (20, 0)]),
    ],
    ids=["offers", "collection"],
)
def test_boundaries_in_each_zone(
    zone: ZoneInfo, hours: ContactHours, inside: list[tuple[int, int]], outside: list[tuple[int, int]]
) -> None:
    # Monday 2 November 2026, an ordinary working day.
    for hour, minute in inside:
        assert closure(hours, local(zone, 11, 2, hour, minute), only(zone), CALENDAR) is None
    for hour, minute in outside:
        closed = closure(hours, local(zone, 11, 2, hour, minute), only(zone), CALENDAR)
        assert closed is not None
        assert closed.reason is Closed.OUTSIDE_HOURS
        assert closed.zone is zone


@pytest.mark.parametrize("zone", ZONES, ids=lambda zone: zone.key)
def test_saturday_is_open_sunday_is_not(zone: ZoneInfo) -> None:
    assert closure(OFFER_HOURS, local(zone, 11, 7, 10), only(zone), CALENDAR) is None
    sunday = closure(OFFER_HOURS, local(zone, 11, 8, 10), only(zone), CALENDAR)
    assert sunday is not None
    assert sunday.reason is Closed.CLOSED_DAY
    assert next_open(OFFER_HOURS, local(zone, 11, 7, 18), only(zone), CALENDAR) == local(zone, 11, 9, 8)


@pytest.mark.parametrize("zone", ZONES, ids=lambda zone: zone.key)
def test_next_open_within_across_night_and_before(zone: ZoneInfo) -> None:
    assert next_open(OFFER_HOURS, local(zone, 11, 2, 12, 34), only(zone), CALENDAR) == local(zone, 11, 2, 12, 34)
    assert next_open(OFFER_HOURS, local(zone, 11, 2, 7, 59), only(zone), CALENDAR) == local(zone, 11, 2, 8)
    assert next_open(OFFER_HOURS, local(zone, 11, 2, 18), only(zone), CALENDAR) == local(zone, 11, 3, 8)
    assert next_open(COLLECTION_HOURS, local(zone, 11, 2, 19, 59), only(zone), CALENDAR) == local(zone, 11, 2, 19, 59)
    assert next_open(COLLECTION_HOURS, local(zone, 11, 2, 20), only(zone), CALENDAR) == local(zone, 11, 3, 8)
    assert next_open(OFFER_HOURS, local(zone, 11, 2, 18), only(zone), CALENDAR).tzinfo is UTC


def test_holiday_closure_names_the_holiday() -> None:
    closed = closure(COLLECTION_HOURS, local(WIB, 8, 17, 10), only(WIB), CALENDAR)
    assert closed is not None
    assert closed.reason is Closed.HOLIDAY
    assert closed.detail == "Independence Day"
    assert next_open(COLLECTION_HOURS, local(WIB, 8, 17, 10), only(WIB), CALENDAR) == local(WIB, 8, 18, 8)


def test_idul_fitri_run_and_the_day_after() -> None:
    # Tuesday 17 March 2026 after hours: Wed 18 (cuti bersama) to Tue 24 March are all off.
    assert next_open(OFFER_HOURS, local(WITA, 3, 17, 18), only(WITA), CALENDAR) == local(WITA, 3, 25, 8)
    leave = closure(OFFER_HOURS, local(WITA, 3, 23, 9), only(WITA), CALENDAR)
    assert leave is not None
    assert leave.reason is Closed.COLLECTIVE_LEAVE
    lenient = HolidayCalendar(CalendarOverrides(collective_leave_is_day_off=False))
    assert next_open(OFFER_HOURS, local(WITA, 3, 17, 18), only(WITA), lenient) == local(WITA, 3, 18, 8)
    # Without the flag: Thu 19 Nyepi, Fri 20 allowed, Sat 21 and Sun 22 Idul Fitri, Mon 23 allowed.
    assert next_open(OFFER_HOURS, local(WITA, 3, 20, 18), only(WITA), lenient) == local(WITA, 3, 23, 8)


@pytest.mark.parametrize(
    ("hours", "last_minute"),
    [(OFFER_HOURS, time(15, 59)), (COLLECTION_HOURS, time(17, 59))],
    ids=["offers", "collection"],
)
def test_unknown_zone_is_the_intersection(hours: ContactHours, last_minute: time) -> None:
    # TZ-4: offers 08:00-16:00 WIB, collection 08:00-18:00 WIB.
    assert closure(hours, local(WIB, 11, 2, 7, 59), UNKNOWN_ZONE, CALENDAR) is not None
    assert closure(hours, local(WIB, 11, 2, 8), UNKNOWN_ZONE, CALENDAR) is None
    end = local(WIB, 11, 2, last_minute.hour, last_minute.minute)
    assert closure(hours, end, UNKNOWN_ZONE, CALENDAR) is None
    closed = closure(hours, local(WIB, 11, 2, last_minute.hour + 1), UNKNOWN_ZONE, CALENDAR)
    assert closed is not None
    assert closed.zone is WIT
    assert next_open(hours, local(WIB, 11, 2, 6), UNKNOWN_ZONE, CALENDAR) == local(WIB, 11, 2, 8)
    assert next_open(hours, local(WIB, 11, 2, last_minute.hour + 1), UNKNOWN_ZONE, CALENDAR) == local(WIB, 11, 3, 8)


def test_unknown_zone_skips_a_day_that_is_off() -> None:
    # Saturday 17:00 WIB is after the intersection's close; Sunday is off; Monday 08:00 WIB.
    assert next_open(OFFER_HOURS, local(WIB, 11, 7, 17), UNKNOWN_ZONE, CALENDAR) == local(WIB, 11, 9, 8)


def test_agreed_hours_can_ignore_days_off() -> None:
    agreed = ContactHours(time(19), time(22), days=frozenset(range(7)), closed_on_days_off=False)
    assert closure(agreed, local(WIB, 8, 17, 21), only(WIB), CALENDAR) is None
    assert next_open(agreed, local(WIB, 8, 17, 10), only(WIB), CALENDAR) == local(WIB, 8, 17, 19)


@pytest.mark.parametrize(
    "build",
    [
        lambda: ContactHours(time(18), time(8)),
        lambda: ContactHours(time(8), time(8)),
        lambda: ContactHours(time(8), time(18), days=frozenset()),
        lambda: ContactHours(time(8), time(18), days=frozenset({7})),
        lambda: ContactHours(time(8, tzinfo=UTC), time(18)),
    ],
)
def test_invalid_hours_are_refused(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        closure(OFFER_HOURS, datetime(2026, 11, 2, 10), only(WIB), CALENDAR)
