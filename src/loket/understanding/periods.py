"""Dates and periods in customer text, resolved against `now` in the customer's time zone.

Every period is a half-open range of dates, [start, end): "kemarin" on 2 November is
[1 Nov, 2 Nov). The rules, in both languages:

- Calendar units are whole: "bulan ini"/"this month" is the whole month, "minggu lalu"/"last week"
  is the previous Monday-to-Sunday week, "tahun lalu" the previous year. Callers clamp to today if
  they must not look into the future.
- Rolling windows include today: "3 hari terakhir"/"last 3 days" is [today - 2, today + 1);
  "3 bulan terakhir"/"past 3 months" is [the same day 3 months ago + 1 day, today + 1).
- "N hari lalu"/"N days ago" is that one day; "N bulan lalu"/"N months ago" the calendar month N back.
- A month or day without a year is the most recent one that is not in the future: "Desember" asked
  in January is last December; "Oktober" asked in October is this October; "5 Nov" asked on
  2 November is 5 November last year. A day range ("1-15 Nov") takes the year of its end month.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Jakarta"

MONTHS: dict[str, int] = {}
for _month_number, _month_names in enumerate(
    (
        "januari jan january",
        "februari pebruari feb february",
        "maret mar march",
        "april apr",
        "mei may",
        "juni jun june",
        "juli jul july",
        "agustus agu agt ags aug august",
        "september sep sept",
        "oktober okt oct october",
        "november nov nop",
        "desember des dec december",
    ),
    start=1,
):
    for _name in _month_names.split():
        MONTHS[_name] = _month_number
_AMBIGUOUS_MONTHS = frozenset({"may", "mar"})  # English words too: need "bulan", "in", a day or a year

_NUMBER_WORDS = {
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
    "sebelas": 11,
    "dua belas": 12,
    "a": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_UNITS = {
    "hari": "day",
    "hr": "day",
    "day": "day",
    "days": "day",
    "minggu": "week",
    "mgg": "week",
    "mggu": "week",
    "pekan": "week",
    "week": "week",
    "weeks": "week",
    "bulan": "month",
    "bln": "month",
    "month": "month",
    "months": "month",
    "tahun": "year",
    "thn": "year",
    "year": "year",
    "years": "year",
}

_MONTH = r"(?P<{}>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_N = r"(?P<n>\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_UNIT = r"(?P<unit>" + "|".join(sorted(_UNITS, key=len, reverse=True)) + ")"
_TO = r"\s*(?:-|–|s/?d|sd|sampai(?:\s+dengan)?|hingga|to|until)\s*"
_DAY = r"(?:tgl\.?|tanggal|date)?\s*"
_ROLLING = r"(?:terakhir|trakhir|terakir|belakangan|ke\s?belakang)"
_AGO = r"(?:yang\s+lalu|yg\s+lalu|lalu|ago)"
_LAST = r"(?:lalu|kemarin|kemaren|kmrn|sebelumnya|kmarin)"


@dataclass(frozen=True, slots=True)
class Period:
    start: date  # inclusive
    end: date  # exclusive
    kind: str  # day, days, week, month, months, year, range
    text: str
    span: tuple[int, int]


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _month_range(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    return start, add_months(start, 1)


def _recent_year(month: int, today: date) -> int:
    return today.year if month <= today.month else today.year - 1


def _number(raw: str) -> int:
    raw = " ".join(raw.casefold().split())
    return int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]


def _year(raw: str | None, fallback: int) -> int:
    if not raw:
        return fallback
    value = int(raw)
    return value + 2000 if value < 100 else value


_Resolver = Callable[["re.Match[str]", date], tuple[date, date, str] | None]


def _numeric_range(m: re.Match[str], today: date) -> tuple[date, date, str] | None:
    first = date(_year(m["y1"], today.year), int(m["m1"]), int(m["d1"]))
    last = date(_year(m["y2"], today.year), int(m["m2"]), int(m["d2"]))
    return (first, last + timedelta(days=1), "range") if first <= last else None


def _day_range(m: re.Match[str], today: date) -> tuple[date, date, str] | None:
    end_month = MONTHS[m["mon2"].casefold()]
    first_month = m.groupdict().get("mon1")
    start_month = MONTHS[first_month.casefold()] if first_month else end_month
    end_year = _year(m["year"], _recent_year(end_month, today))
    start_year = end_year - 1 if start_month > end_month else end_year
    first = date(start_year, start_month, int(m["d1"]))
    last = date(end_year, end_month, int(m["d2"]))
    return (first, last + timedelta(days=1), "range") if first <= last else None


def _single_day(m: re.Match[str], today: date) -> tuple[date, date, str] | None:
    month = MONTHS[m["mon"].casefold()]
    day = int(m["d"])
    if m["year"]:
        found = date(_year(m["year"], today.year), month, day)
    else:
        found = date(today.year, month, day)
        if found > today:
            found = date(today.year - 1, month, day)
    return found, found + timedelta(days=1), "day"


def _numeric_day(m: re.Match[str], today: date) -> tuple[date, date, str] | None:
    found = date(_year(m["y"], today.year), int(m["m"]), int(m["d"]))
    return found, found + timedelta(days=1), "day"


def _month_year(m: re.Match[str], today: date) -> tuple[date, date, str] | None:
    month = MONTHS[m["mon"].casefold()] if m["mon"] else int(m["mm"])
    return (*_month_range(int(m["year"]), month), "month")


def _month_span(m: re.Match[str], today: date) -> tuple[date, date, str] | None:
    first, last = MONTHS[m["mon1"].casefold()], MONTHS[m["mon2"].casefold()]
    end_year = _year(m["y2"], _recent_year(last, today))
    start_year = _year(m["y1"], end_year - 1 if first > last else end_year)
    start, end = date(start_year, first, 1), add_months(date(end_year, last, 1), 1)
    return (start, end, "range") if start < end else None


def _month_alone(m: re.Match[str], today: date) -> tuple[date, date, str] | None:
    name = m["mon"].casefold()
    if name in _AMBIGUOUS_MONTHS and not m["ctx"]:
        return None
    month = MONTHS[name]
    return (*_month_range(_recent_year(month, today), month), "month")


def _count_and_unit(m: re.Match[str]) -> tuple[int, str]:
    groups = m.groupdict()
    n = _number(groups["n"]) if groups.get("n") else 1
    return n, _UNITS[(groups.get("unit") or groups["se"]).casefold()]


def _rolling(m: re.Match[str], today: date) -> tuple[date, date, str] | None:
    n, unit = _count_and_unit(m)
    end = today + timedelta(days=1)
    if unit == "day":
        return end - timedelta(days=n), end, "days"
    if unit == "week":
        return end - timedelta(days=7 * n), end, "days"
    months = n if unit == "month" else 12 * n
    return add_months(today, -months) + timedelta(days=1), end, "months" if unit == "month" else "days"


def _ago(m: re.Match[str], today: date) -> tuple[date, date, str] | None:
    n, unit = _count_and_unit(m)
    return _calendar(unit, -n, today)


def _calendar(unit: str, offset: int, today: date) -> tuple[date, date, str]:
    if unit == "day":
        day = today + timedelta(days=offset)
        return day, day + timedelta(days=1), "day"
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
        return monday, monday + timedelta(days=7), "week"
    if unit == "month":
        start = add_months(today.replace(day=1), offset)
        return start, add_months(start, 1), "month"
    return date(today.year + offset, 1, 1), date(today.year + offset + 1, 1, 1), "year"


def _this_or_last(m: re.Match[str], today: date) -> tuple[date, date, str] | None:
    unit = _UNITS[(m["unit_id"] or m["unit_en"]).casefold()]
    offset = -1 if (m["last_id"] or m["last_en"]) else 0
    return _calendar(unit, offset, today)


def _day_word(m: re.Match[str], today: date) -> tuple[date, date, str] | None:
    word = " ".join(m.group(0).casefold().split())
    offset = {"hari ini": 0, "today": 0, "kemarin lusa": -2, "day before yesterday": -2}.get(word, -1)
    return _calendar("day", offset, today)


_CAL_UNIT = r"minggu|mgg|mggu|pekan|bulan|bln|tahun|thn"
_SE = r"se(?P<se>hari|minggu|pekan|bulan|tahun)"
_PATTERNS: tuple[tuple[re.Pattern[str], _Resolver], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), resolver)
    for pattern, resolver in (
        (
            r"(?<![\d.,])(?P<d1>\d{1,2})[/.-](?P<m1>\d{1,2})[/.-](?P<y1>\d{4}|\d{2})"
            + _TO
            + r"(?P<d2>\d{1,2})[/.-](?P<m2>\d{1,2})[/.-](?P<y2>\d{4}|\d{2})(?!\d)",
            _numeric_range,
        ),
        (
            rf"\b{_DAY}(?P<d1>\d{{1,2}})(?:\s*{_MONTH.format('mon1')})?{_TO}(?P<d2>\d{{1,2}})\s*"
            rf"{_MONTH.format('mon2')}(?:\s+(?P<year>\d{{4}}))?\b",
            _day_range,
        ),
        (
            rf"\b{_MONTH.format('mon2')}\s+(?P<d1>\d{{1,2}}){_TO}(?P<d2>\d{{1,2}})(?:,?\s+(?P<year>\d{{4}}))?\b",
            _day_range,
        ),
        (rf"\b{_DAY}(?P<d>\d{{1,2}})\s*{_MONTH.format('mon')}(?:\s+(?P<year>\d{{4}}))?\b", _single_day),
        (
            rf"\b{_MONTH.format('mon')}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{{4}}))?\b(?!\s*(?:-|to))",
            _single_day,
        ),
        (r"(?<![\d.,/])(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4}|\d{2})(?![\d/])", _numeric_day),
        (
            rf"\b{_MONTH.format('mon1')}(?:\s+(?P<y1>\d{{4}}))?{_TO}{_MONTH.format('mon2')}(?:\s+(?P<y2>\d{{4}}))?\b",
            _month_span,
        ),
        (rf"\b(?:{_MONTH.format('mon')}\s*|(?<![\d/])(?P<mm>\d{{1,2}})/)(?P<year>(?:19|20)\d{{2}})\b", _month_year),
        (rf"\b(?:last|past|previous)\s+{_N}\s*{_UNIT}\b", _rolling),
        (rf"\bpast\s+{_UNIT}\b", _rolling),
        (rf"\b{_N}\s*{_UNIT}\s*{_ROLLING}\b", _rolling),
        (rf"\b{_SE}\s*{_ROLLING}\b", _rolling),
        (rf"\b{_N}\s*{_UNIT}\s*{_AGO}\b", _ago),
        (rf"\b{_SE}\s*{_AGO}\b", _ago),
        (
            rf"\b(?:(?P<unit_id>{_CAL_UNIT})\s+(?:ini|(?P<last_id>{_LAST}))"
            rf"|(?:this|current|(?P<last_en>last|previous))\s+(?P<unit_en>week|month|year))\b",
            _this_or_last,
        ),
        (r"\b(?:hari\s+ini|today|kemarin\s+lusa|day\s+before\s+yesterday|kemarin|kemaren|kmrn|yesterday)\b", _day_word),
        (
            rf"\b(?P<ctx>(?:bulan|bln|month|periode|period|in|for|of|during)\s+)?{_MONTH.format('mon')}(?![\w])",
            _month_alone,
        ),
    )
)


def find_periods(text: str, now: datetime, timezone: str | ZoneInfo = DEFAULT_TIMEZONE) -> list[Period]:
    """Every period in `text`, left to right; where two readings overlap the more specific one wins."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    today = now.astimezone(zone).date()
    taken: list[Period] = []
    blocked: list[tuple[int, int]] = []
    for pattern, resolver in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < s_end and s_start < end for s_start, s_end in [p.span for p in taken] + blocked):
                continue
            try:
                resolved = resolver(match, today)
            except (ValueError, OverflowError, KeyError):
                blocked.append((start, end))  # 31 February: no period, and no weaker reading of it either
                continue
            if resolved is not None:
                written = match.group(0)
                start += len(written) - len(written.lstrip())
                end -= len(written) - len(written.rstrip())
                taken.append(Period(resolved[0], resolved[1], resolved[2], written.strip(), (start, end)))
    return sorted(taken, key=lambda period: period.span)


def find_period(text: str, now: datetime, timezone: str | ZoneInfo = DEFAULT_TIMEZONE) -> Period | None:
    periods = find_periods(text, now, timezone)
    return periods[0] if periods else None
