from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.understanding.periods import add_months, find_period, find_periods

# Monday 2 November 2026, 10:00 in Jakarta.
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
JANUARY = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("hari ini", "2026-11-02", "2026-11-03", "day"),
        ("today", "2026-11-02", "2026-11-03", "day"),
        ("kemarin", "2026-11-01", "2026-11-02", "day"),
        ("mutasi kmrn", "2026-11-01", "2026-11-02", "day"),
        ("yesterday", "2026-11-01", "2026-11-02", "day"),
        ("kemarin lusa", "2026-10-31", "2026-11-01", "day"),
        ("bulan ini", "2026-11-01", "2026-12-01", "month"),
        ("bulan lalu", "2026-10-01", "2026-11-01", "month"),
        ("bln kmrn", "2026-10-01", "2026-11-01", "month"),
        ("last month", "2026-10-01", "2026-11-01", "month"),
        ("2 bulan lalu", "2026-09-01", "2026-10-01", "month"),
        ("minggu ini", "2026-11-02", "2026-11-09", "week"),
        ("minggu lalu", "2026-10-26", "2026-11-02", "week"),
        ("last week", "2026-10-26", "2026-11-02", "week"),
        ("tahun lalu", "2025-01-01", "2026-01-01", "year"),
        ("3 hari terakhir", "2026-10-31", "2026-11-03", "days"),
        ("tiga hari terakhir", "2026-10-31", "2026-11-03", "days"),
        ("last 7 days", "2026-10-27", "2026-11-03", "days"),
        ("seminggu terakhir", "2026-10-27", "2026-11-03", "days"),
        ("past week", "2026-10-27", "2026-11-03", "days"),
        ("rek koran 3 bln terakhir", "2026-08-03", "2026-11-03", "months"),
        ("the last 3 months", "2026-08-03", "2026-11-03", "months"),
        ("5 days ago", "2026-10-28", "2026-10-29", "day"),
        ("Oktober", "2026-10-01", "2026-11-01", "month"),
        ("november", "2026-11-01", "2026-12-01", "month"),
        ("e-statement okt", "2026-10-01", "2026-11-01", "month"),
        ("Desember", "2025-12-01", "2026-01-01", "month"),
        ("okt 2026", "2026-10-01", "2026-11-01", "month"),
        ("oktober 2025", "2025-10-01", "2025-11-01", "month"),
        ("10/2026", "2026-10-01", "2026-11-01", "month"),
        ("in may", "2026-05-01", "2026-06-01", "month"),
        ("1-15 Nov", "2026-11-01", "2026-11-16", "range"),
        ("mutasi 1 - 15 november 2026", "2026-11-01", "2026-11-16", "range"),
        ("tgl 1 sampai 15 okt", "2026-10-01", "2026-10-16", "range"),
        ("nov 1-15, 2025", "2025-11-01", "2025-11-16", "range"),
        ("01/10/2026 - 15/10/2026", "2026-10-01", "2026-10-16", "range"),
        ("oktober sampai november", "2026-10-01", "2026-12-01", "range"),
        ("tgl 5 okt", "2026-10-05", "2026-10-06", "day"),
        ("5 Nov", "2025-11-05", "2025-11-06", "day"),
        ("05/10/2026", "2026-10-05", "2026-10-06", "day"),
    ],
)
def test_periods(text: str, start: str, end: str, kind: str) -> None:
    period = find_period(text, NOW)
    assert period is not None, text
    assert (period.start, period.end, period.kind) == (d(start), d(end), kind)
    assert text[period.span[0] : period.span[1]] == period.text


def test_year_boundaries_in_january() -> None:
    december = find_period("rekening koran Desember", JANUARY)
    assert december is not None and (december.start, december.end) == (d("2026-12-01"), d("2027-01-01"))
    last_month = find_period("bulan lalu", JANUARY)
    assert last_month is not None and (last_month.start, last_month.end) == (d("2026-12-01"), d("2027-01-01"))
    january = find_period("januari", JANUARY)
    assert january is not None and january.start == d("2027-01-01")
    span = find_period("20 des - 5 jan", JANUARY)
    assert span is not None and (span.start, span.end) == (d("2026-12-20"), d("2027-01-06"))
    last_year = find_period("last year", JANUARY)
    assert last_year is not None and last_year.start == d("2026-01-01")


def test_today_is_the_customers_day_not_utc() -> None:
    late_utc = datetime(2026, 11, 1, 18, 30, tzinfo=UTC)  # already 2 November in Jakarta
    today = find_period("hari ini", late_utc)
    assert today is not None and today.start == d("2026-11-02")
    utc_today = find_period("hari ini", late_utc, "UTC")
    assert utc_today is not None and utc_today.start == d("2026-11-01")
    papua = find_period("kemarin", late_utc, ZoneInfo("Asia/Jayapura"))
    assert papua is not None and papua.start == d("2026-11-01")


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        find_periods("hari ini", datetime(2026, 11, 2, 10, 0))


@pytest.mark.parametrize(
    "text",
    ["may i ask something", "31 feb", "transfer 150000", "Rp 1.250.000", "0812-3456-7890", "CMP-2026-000123", "halo"],
)
def test_not_periods(text: str) -> None:
    assert find_periods(text, NOW) == []


def test_several_periods_left_to_right() -> None:
    periods = find_periods("bandingkan bulan ini dengan bulan lalu", NOW)
    assert [p.text for p in periods] == ["bulan ini", "bulan lalu"]


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)))
def test_calendar_periods_are_well_formed_on_any_day(today: date) -> None:
    now = datetime(today.year, today.month, today.day, 5, 0, tzinfo=UTC)
    for text in ("bulan lalu", "bulan ini", "minggu lalu", "3 hari terakhir", "desember", "1-15 nov", "kemarin"):
        period = find_period(text, now)
        assert period is not None, text
        assert period.start < period.end
        assert period.start <= today + timedelta(days=1)
    last = find_period("bulan lalu", now)
    assert last is not None and last.end == today.replace(day=1) and last.start.day == 1


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(-30, 30))
def test_add_months_stays_in_month(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day <= day.day
