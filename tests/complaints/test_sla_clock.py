"""The working-day SLA clock (CMP-2, TZ-8): year ends, national holidays, cuti bersama, Fridays after
hours, pauses for documents and the one extension. Pure: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from loket.complaints.sla import (
    Alert,
    ClockState,
    Form,
    SlaError,
    SlaPolicy,
    Urgency,
    due_alerts,
    extend,
    extension_allowed,
    new_clock,
    pause,
    read,
    resume,
    urgency,
    working_days_between,
)
from loket.compliance.calendar import CalendarOverrides, HolidayCalendar
from loket.compliance.zones import WIB, WIT

CALENDAR = HolidayCalendar()
POLICY = SlaPolicy()


def wib(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


def deadline(
    state: ClockState, now: datetime | None = None, calendar: HolidayCalendar = CALENDAR, policy: SlaPolicy = POLICY
) -> date | None:
    return read(state, now or state.received_at, calendar, policy).deadline


# Oral 5 and written 10 working days (CMP-2)


def test_oral_complaint_has_five_working_days_from_the_day_received() -> None:
    assert deadline(new_clock(Form.ORAL, wib(2026, 11, 2))) == date(2026, 11, 9)  # Mon -> next Mon


def test_written_complaint_has_ten_working_days() -> None:
    assert deadline(new_clock(Form.WRITTEN, wib(2026, 11, 2))) == date(2026, 11, 16)


def test_friday_after_closing_counts_from_monday() -> None:
    before = new_clock(Form.WRITTEN, wib(2026, 11, 6, 16, 59))
    after = new_clock(Form.WRITTEN, wib(2026, 11, 6, 17, 0))
    assert deadline(before) == date(2026, 11, 20)
    assert deadline(after) == date(2026, 11, 23)


def test_closing_hour_is_configurable() -> None:
    early = SlaPolicy(office_close=time(15, 0))
    state = new_clock(Form.ORAL, wib(2026, 11, 6, 16, 0))
    assert deadline(state, policy=early) == date(2026, 11, 16)  # counts from Mon 9 Nov
    assert deadline(state) == date(2026, 11, 13)  # before 17:00: counts from Fri 6 Nov


def test_weekend_receipt_counts_from_monday() -> None:
    assert deadline(new_clock(Form.ORAL, wib(2026, 11, 7, 9))) == deadline(new_clock(Form.ORAL, wib(2026, 11, 9, 9)))


def test_office_zone_decides_after_hours() -> None:
    """16:30 in Jayapura is before a WIT office closes, but 14:30 WIB is the same moment."""
    moment = datetime(2026, 11, 6, 16, 30, tzinfo=WIT)
    assert deadline(new_clock(Form.ORAL, moment), policy=SlaPolicy(zone=WIT)) == date(2026, 11, 13)
    moment_late = datetime(2026, 11, 6, 17, 30, tzinfo=WIT)  # 15:30 WIB: still open in Jakarta
    assert deadline(new_clock(Form.ORAL, moment_late), policy=SlaPolicy(zone=WIT)) == date(2026, 11, 16)
    assert deadline(new_clock(Form.ORAL, moment_late)) == date(2026, 11, 13)


def test_utc_input_is_read_in_the_office_zone() -> None:
    # 2026-11-06 10:30 UTC is 17:30 WIB on Friday: after closing
    state = new_clock(Form.ORAL, datetime(2026, 11, 6, 10, 30, tzinfo=UTC))
    assert deadline(state) == date(2026, 11, 16)


# Holidays and year ends (TZ-6, TZ-7)


def test_year_end_skips_christmas_cuti_bersama_new_year_and_isra_miraj() -> None:
    # Tue 22 Dec 2026: 23 Dec (1), 24 Dec cuti bersama, 25 Dec Christmas, 28-31 Dec (2-5),
    # 1 Jan 2027 New Year, 4 Jan (6), 5 Jan 2027 a national holiday, 6-8 Jan (7-9), 11 Jan (10).
    state = new_clock(Form.WRITTEN, wib(2026, 12, 22))
    assert deadline(state) == date(2027, 1, 11)


def test_cuti_bersama_counts_as_a_working_day_when_configured() -> None:
    calendar = HolidayCalendar(CalendarOverrides(collective_leave_is_day_off=False))
    state = new_clock(Form.WRITTEN, wib(2026, 12, 22))
    assert deadline(state, calendar=calendar) == date(2027, 1, 8)


def test_received_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert deadline(new_clock(Form.ORAL, wib(2026, 12, 25))) == date(2027, 1, 6)  # start Mon 28 Dec


def test_lebaran_2026_week_is_skipped() -> None:
    # Tue 17 Mar 2026; 18 C, 19 H, 20 C, 21-22 H (weekend), 23 C, 24 C; then 25, 26, 27, 30, 31
    assert deadline(new_clock(Form.ORAL, wib(2026, 3, 17))) == date(2026, 3, 31)


def test_configured_extra_holiday_moves_the_deadline() -> None:
    calendar = HolidayCalendar(CalendarOverrides(extra_holidays={date(2026, 11, 4): "Libur daerah"}))
    assert deadline(new_clock(Form.ORAL, wib(2026, 11, 2)), calendar=calendar) == date(2026, 11, 10)


def test_working_days_between() -> None:
    assert working_days_between(CALENDAR, date(2026, 12, 23), date(2027, 1, 6)) == 6
    assert working_days_between(CALENDAR, date(2026, 11, 9), date(2026, 11, 9)) == 0
    assert working_days_between(CALENDAR, date(2026, 11, 9), date(2026, 11, 2)) == 0


# Pauses while documents are missing


def test_written_with_missing_documents_counts_from_complete_documents() -> None:
    state = new_clock(Form.WRITTEN, wib(2026, 11, 2), documents_complete=False)
    waiting = read(state, wib(2026, 11, 3), CALENDAR, POLICY)
    assert waiting.paused and waiting.deadline is None
    assert waiting.documents_due == date(2026, 11, 16)  # the customer's 10 working days
    state = resume(state, wib(2026, 11, 5, 11))
    assert deadline(state, wib(2026, 11, 5, 12)) == date(2026, 11, 19)


def test_oral_with_missing_documents_does_not_start_paused() -> None:
    assert not new_clock(Form.ORAL, wib(2026, 11, 2), documents_complete=False).paused


def test_pause_keeps_the_days_used_and_resumes_with_the_rest() -> None:
    state = new_clock(Form.WRITTEN, wib(2026, 11, 2))  # start Mon 2 Nov
    state = pause(state, wib(2026, 11, 4))  # Tue 3 and Wed 4 used: 8 left
    state = resume(state, wib(2026, 11, 9))  # day 0 again on Mon 9 Nov
    reading = read(state, wib(2026, 11, 9, 12), CALENDAR, POLICY)
    assert reading.deadline == date(2026, 11, 19)
    assert reading.used == 2


def test_documents_after_hours_resume_on_the_next_working_day() -> None:
    state = new_clock(Form.WRITTEN, wib(2026, 11, 2), documents_complete=False)
    state = resume(state, wib(2026, 11, 6, 18))  # Friday evening -> Monday 9 Nov is day 0
    assert deadline(state, wib(2026, 11, 9)) == date(2026, 11, 23)


def test_pause_rules() -> None:
    state = new_clock(Form.WRITTEN, wib(2026, 11, 2))
    with pytest.raises(SlaError):
        resume(state, wib(2026, 11, 3))
    paused = pause(state, wib(2026, 11, 3))
    with pytest.raises(SlaError):
        pause(paused, wib(2026, 11, 4))
    with pytest.raises(SlaError):
        resume(paused, wib(2026, 11, 2))
    with pytest.raises(SlaError):
        pause(state, wib(2026, 11, 1))


# The one extension (CMP-2)


def test_extension_adds_up_to_ten_working_days_when_notified_in_time() -> None:
    state = new_clock(Form.WRITTEN, wib(2026, 11, 2))  # first deadline Mon 16 Nov 17:00
    extended = extend(state, 10, wib(2026, 11, 16, 16, 59), CALENDAR)
    reading = read(extended, wib(2026, 11, 17), CALENDAR, POLICY)
    assert reading.first_deadline == date(2026, 11, 16)
    assert reading.deadline == date(2026, 11, 30)
    assert reading.budget == 20  # the hard stop: day 20


def test_extension_refused_after_the_first_deadline_or_without_notice() -> None:
    state = new_clock(Form.WRITTEN, wib(2026, 11, 2))
    assert extension_allowed(state, wib(2026, 11, 16, 17, 0), CALENDAR) == "notified_after_deadline"
    assert extension_allowed(state, None, CALENDAR) == "customer_not_notified"
    with pytest.raises(SlaError, match="notified_after_deadline"):
        extend(state, 5, wib(2026, 11, 17), CALENDAR)


def test_only_one_extension_of_one_to_ten_days() -> None:
    state = new_clock(Form.ORAL, wib(2026, 11, 2))
    for days in (0, 11):
        with pytest.raises(SlaError):
            extend(state, days, wib(2026, 11, 3), CALENDAR)
    once = extend(state, 3, wib(2026, 11, 3), CALENDAR)
    assert deadline(once) == date(2026, 11, 12)
    with pytest.raises(SlaError, match="already_extended"):
        extend(once, 3, wib(2026, 11, 4), CALENDAR)


def test_extension_across_the_year_end() -> None:
    state = new_clock(Form.ORAL, wib(2026, 12, 21))  # 22, 23, 28, 29, 30 -> 30 Dec
    assert deadline(state) == date(2026, 12, 30)
    extended = extend(state, 5, wib(2026, 12, 29), CALENDAR)  # 31, 4 Jan, 6, 7, 8
    assert deadline(extended) == date(2027, 1, 8)


def test_no_extension_while_paused() -> None:
    state = pause(new_clock(Form.WRITTEN, wib(2026, 11, 2)), wib(2026, 11, 3))
    assert extension_allowed(state, wib(2026, 11, 3), CALENDAR) == "paused"


# Remaining days, urgency and the alerts of the scheduled pass


def test_remaining_days_and_breach() -> None:
    state = new_clock(Form.WRITTEN, wib(2026, 11, 6, 18))  # deadline Mon 23 Nov 17:00
    assert read(state, wib(2026, 11, 18), CALENDAR, POLICY).remaining == 3
    due_day = read(state, wib(2026, 11, 23, 16, 59), CALENDAR, POLICY)
    assert due_day.remaining == 0 and not due_day.breached
    late = read(state, wib(2026, 11, 23, 17, 0), CALENDAR, POLICY)
    assert late.breached
    assert read(state, wib(2026, 11, 25), CALENDAR, POLICY).remaining == -2


def test_urgency_colours() -> None:
    state = new_clock(Form.WRITTEN, wib(2026, 11, 6, 18))
    assert urgency(read(state, wib(2026, 11, 10), CALENDAR, POLICY)) is Urgency.OK
    assert urgency(read(state, wib(2026, 11, 18), CALENDAR, POLICY)) is Urgency.SOON
    assert urgency(read(state, wib(2026, 11, 23, 9), CALENDAR, POLICY)) is Urgency.DUE_TODAY
    assert urgency(read(state, wib(2026, 11, 24), CALENDAR, POLICY)) is Urgency.BREACHED
    paused = pause(state, wib(2026, 11, 10))
    assert urgency(read(paused, wib(2026, 11, 11), CALENDAR, POLICY)) is Urgency.PAUSED


def test_reminders_at_day_seven_and_the_day_before_then_breach() -> None:
    state = new_clock(Form.WRITTEN, wib(2026, 11, 6, 18))  # day 0 Mon 9 Nov, deadline Mon 23 Nov

    def alerts(at: datetime) -> list[Alert]:
        return list(due_alerts(read(state, at, CALENDAR, POLICY), at, CALENDAR, POLICY))

    assert alerts(wib(2026, 11, 17)) == []
    assert [a.key for a in alerts(wib(2026, 11, 18, 8))] == ["response:2026-11-23:3"]  # day 7 (CMP-2)
    assert [a.kind for a in alerts(wib(2026, 11, 20))] == ["reminder", "reminder"]
    assert [a.kind for a in alerts(wib(2026, 11, 23, 17))] == ["reminder", "reminder", "breach"]


def test_documents_alerts_while_paused() -> None:
    state = new_clock(Form.WRITTEN, wib(2026, 11, 2), documents_complete=False)  # documents due 16 Nov
    at = wib(2026, 11, 13)
    assert [a.kind for a in due_alerts(read(state, at, CALENDAR, POLICY), at, CALENDAR, POLICY)] == [
        "documents_reminder"
    ]
    at = wib(2026, 11, 16, 17)
    kinds = [a.kind for a in due_alerts(read(state, at, CALENDAR, POLICY), at, CALENDAR, POLICY)]
    assert kinds == ["documents_reminder", "documents_overdue"]


def test_clock_state_round_trips_through_json() -> None:
    state = resume(pause(new_clock(Form.WRITTEN, wib(2026, 11, 2)), wib(2026, 11, 3)), wib(2026, 11, 4))
    state = extend(state, 4, wib(2026, 11, 5), CALENDAR)
    assert ClockState.from_json(state.to_json()) == state


def test_naive_times_are_refused() -> None:
    with pytest.raises(SlaError):
        new_clock(Form.ORAL, datetime(2026, 11, 2, 10))
    with pytest.raises(SlaError):
        read(new_clock(Form.ORAL, wib(2026, 11, 2)), datetime(2026, 11, 3), CALENDAR, POLICY)


def test_every_day_of_two_years_gives_a_working_day_deadline() -> None:
    """Whatever the moment, the deadline is a working day and exactly n working days after day 0."""
    moment = wib(2026, 1, 1, 8)
    while moment.year < 2028:
        for form, days in ((Form.ORAL, 5), (Form.WRITTEN, 10)):
            state = new_clock(form, moment)
            due = deadline(state)
            assert due is not None and CALENDAR.is_working_day(due)
            start = CALENDAR.sla_start(moment, zone=WIB)
            assert working_days_between(CALENDAR, start, due) == days
        moment += timedelta(hours=13)
