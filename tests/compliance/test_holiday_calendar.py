from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from loket.compliance.calendar import CalendarError, CalendarOverrides, HolidayCalendar, overrides_from_mapping
from loket.compliance.zones import INDONESIAN_ZONES, WIB, WIT, WITA

# TZ-6: SKB No. 1497/2025, 2/2025, 5/2025 as listed in the compliance notes.
NATIONAL_2026 = {
    date(2026, 1, 1),
    date(2026, 1, 16),
    date(2026, 2, 17),
    date(2026, 3, 19),
    date(2026, 3, 21),
    date(2026, 3, 22),
    date(2026, 4, 3),
    date(2026, 4, 5),
    date(2026, 5, 1),
    date(2026, 5, 14),
    date(2026, 5, 27),
    date(2026, 5, 31),
    date(2026, 6, 1),
    date(2026, 6, 16),
    date(2026, 8, 17),
    date(2026, 8, 25),
    date(2026, 12, 25),
}
CUTI_BERSAMA_2026 = {
    date(2026, 2, 16),
    date(2026, 3, 18),
    date(2026, 3, 20),
    date(2026, 3, 23),
    date(2026, 3, 24),
    date(2026, 5, 15),
    date(2026, 5, 28),
    date(2026, 12, 24),
}


def days_of(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [start + timedelta(days=offset) for offset in range((date(year + 1, 1, 1) - start).days)]


@pytest.fixture(scope="module")
def calendar() -> HolidayCalendar:
    return HolidayCalendar()


@pytest.mark.parametrize(("zone", "hours"), [(WIB, 7), (WITA, 8), (WIT, 9)])
def test_offsets_never_change_with_the_season(zone: ZoneInfo, hours: int) -> None:
    # TZ-1: no daylight saving, ever; checked twice a month over four decades.
    assert zone in INDONESIAN_ZONES
    for year in range(1990, 2040):
        for month in range(1, 13):
            for day in (1, 15):
                moment = datetime(year, month, day, 12, tzinfo=UTC)
                assert moment.astimezone(zone).utcoffset() == timedelta(hours=hours)


def test_2026_national_holidays_match_the_skb(calendar: HolidayCalendar) -> None:
    assert {day for day in days_of(2026) if calendar.is_national_holiday(day)} == NATIONAL_2026


def test_2026_cuti_bersama_match_the_skb(calendar: HolidayCalendar) -> None:
    assert {day for day in days_of(2026) if calendar.is_collective_leave(day)} == CUTI_BERSAMA_2026


def test_idul_fitri_2026(calendar: HolidayCalendar) -> None:
    assert calendar.is_national_holiday(date(2026, 3, 21))
    assert calendar.is_national_holiday(date(2026, 3, 22))
    for leave in (date(2026, 3, 20), date(2026, 3, 23), date(2026, 3, 24)):
        assert calendar.is_collective_leave(leave)
        assert not calendar.is_national_holiday(leave)  # TZ-7: not legally a holiday
    # Nyepi (19th) and its cuti bersama (18th) join the run: Wed 18 to Tue 24 March is off.
    assert [calendar.is_working_day(date(2026, 3, day)) for day in range(17, 26)] == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
    ]


def test_cuti_bersama_flag(calendar: HolidayCalendar) -> None:
    monday_leave = date(2026, 3, 23)
    assert calendar.overrides.collective_leave_is_day_off  # TZ-7: on by default
    assert calendar.is_day_off(monday_leave)
    assert not calendar.is_working_day(monday_leave)
    lenient = HolidayCalendar(CalendarOverrides(collective_leave_is_day_off=False))
    assert lenient.is_collective_leave(monday_leave)
    assert not lenient.is_day_off(monday_leave)
    assert lenient.is_working_day(monday_leave)
    assert lenient.next_working_day(date(2026, 3, 17)) == date(2026, 3, 18)
    assert calendar.next_working_day(date(2026, 3, 17)) == date(2026, 3, 25)
    assert lenient.version != calendar.version


def test_weekends_are_not_working_days(calendar: HolidayCalendar) -> None:
    assert calendar.is_working_day(date(2026, 11, 6))  # Friday
    assert not calendar.is_working_day(date(2026, 11, 7))  # Saturday
    assert not calendar.is_working_day(date(2026, 11, 8))  # Sunday
    assert not calendar.is_day_off(date(2026, 11, 7))  # a Saturday is not a day off for contact rules


def test_add_working_days_across_year_ends(calendar: HolidayCalendar) -> None:
    # 24 Dec cuti bersama, 25 Christmas, 26-27 weekend.
    assert calendar.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 28)
    # 1 Jan holiday, 2-3 weekend.
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert calendar.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 2)
    # 29, 30, 31 Dec, then 4 Jan; 5 Jan 2027 is Isra' Mi'raj, so the fifth is the 6th.
    assert calendar.add_working_days(date(2026, 12, 28), 5) == date(2027, 1, 6)
    assert calendar.add_working_days(date(2026, 12, 28), 0) == date(2026, 12, 28)
    lenient = HolidayCalendar(CalendarOverrides(collective_leave_is_day_off=False))
    assert lenient.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 24)
    with pytest.raises(ValueError, match="negative"):
        calendar.add_working_days(date(2026, 12, 28), -1)


def wib(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


def test_sla_start_after_office_hours_weekends_and_holidays(calendar: HolidayCalendar) -> None:
    assert calendar.sla_start(wib(2026, 11, 6, 16, 59)) == date(2026, 11, 6)
    assert calendar.sla_start(wib(2026, 11, 6, 17, 0)) == date(2026, 11, 9)  # Friday after hours
    assert calendar.sla_start(wib(2026, 11, 7, 10)) == date(2026, 11, 9)  # Saturday
    assert calendar.sla_start(wib(2026, 8, 17, 10)) == date(2026, 8, 18)  # Independence Day
    assert calendar.sla_start(wib(2026, 8, 14, 18)) == date(2026, 8, 18)  # Friday night before it
    # In UTC it is still Friday afternoon, in WIB already after closing.
    assert calendar.sla_start(datetime(2026, 11, 6, 10, 30, tzinfo=UTC)) == date(2026, 11, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.sla_start(datetime(2026, 11, 6, 10))


def test_sla_deadline_in_working_days(calendar: HolidayCalendar) -> None:
    assert calendar.sla_deadline(wib(2026, 11, 2, 10), 10) == date(2026, 11, 16)
    assert calendar.sla_deadline(wib(2026, 11, 6, 20), 10) == date(2026, 11, 23)
    # Received the evening before the Idul Fitri run: counting starts on Wednesday 25 March.
    assert calendar.sla_start(wib(2026, 3, 17, 19)) == date(2026, 3, 25)
    assert calendar.sla_deadline(wib(2026, 3, 17, 19), 5) == date(2026, 4, 1)


def test_configured_overrides() -> None:
    moved = HolidayCalendar(
        CalendarOverrides(
            extra_holidays={date(2026, 5, 26): "Idul Adha (moved by the Minister)"},
            extra_collective_leave={date(2026, 11, 9): "Cuti bersama tambahan"},
            removed=frozenset({date(2026, 5, 27)}),
        )
    )
    assert moved.holiday_name(date(2026, 5, 26)) == "Idul Adha (moved by the Minister)"
    assert not moved.is_national_holiday(date(2026, 5, 27))
    assert moved.is_collective_leave(date(2026, 11, 9))
    assert not moved.is_working_day(date(2026, 11, 9))
    assert moved.version != HolidayCalendar().version


def test_overrides_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(
        "collective_leave_is_day_off = false\n"
        "removed = [2026-05-27]\n"
        "[extra_holidays]\n"
        '"2026-05-26" = "Idul Adha"\n'
        "[extra_collective_leave]\n"
        '2026-11-09 = "Tambahan"\n',
        encoding="utf-8",
    )
    loaded = HolidayCalendar.from_toml(path)
    assert not loaded.overrides.collective_leave_is_day_off
    assert loaded.is_national_holiday(date(2026, 5, 26))
    assert not loaded.is_national_holiday(date(2026, 5, 27))
    assert loaded.is_collective_leave(date(2026, 11, 9))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"extra_holiday": {}}, "unknown keys extra_holiday"),
        ({"collective_leave_is_day_off": "yes"}, "true or false"),
        ({"extra_holidays": {"2026-02-30": "x"}}, "not a YYYY-MM-DD date"),
        ({"removed": "2026-05-27"}, "must be a table"),
    ],
)
def test_bad_overrides_are_refused_clearly(data: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        overrides_from_mapping(data)


def test_unreadable_toml_is_a_calendar_error(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text("removed = [", encoding="utf-8")
    with pytest.raises(CalendarError, match=r"calendar\.toml"):
        HolidayCalendar.from_toml(path)
