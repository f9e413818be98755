"""Indonesian national holidays, collective leave (cuti bersama) and working days.

Holidays come from the `holidays` package (country ID): its "public" category is the national
holidays and its "government" category the cuti bersama of each year's SKB of 3 Ministers (TZ-6).
Islamic dates follow the Minister of Religion and can move, so every date can be added or removed
by configuration (TZ-6: "load the calendar from configuration; do not hard-code it").
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from loket.compliance.zones import WIB

SATURDAY = 5
SUNDAY = 6
# A safety stop for loops over days: no real calendar has a year without a working day.
SEARCH_DAYS = 400
_HOLIDAYS_VERSION = package_version("holidays")
DEFAULT_OFFICE_CLOSE = time(17, 0)  # TZ-8: cut-off UNCONFIRMED; pass the institution's own


class CalendarError(ValueError):
    """The calendar configuration is unusable; the message names the entry to fix."""


@dataclass(frozen=True, slots=True)
class CalendarOverrides:
    """Configured corrections to the package's data.

    `collective_leave_is_day_off` (TZ-7, default on, the conservative choice) makes cuti bersama
    block offers and collection and not count as a working day for SLAs.
    """

    collective_leave_is_day_off: bool = True
    extra_holidays: Mapping[date, str] = field(default_factory=dict)
    extra_collective_leave: Mapping[date, str] = field(default_factory=dict)
    removed: frozenset[date] = frozenset()

    def fingerprint(self) -> str:
        canonical = json.dumps(
            {
                "collective_leave_is_day_off": self.collective_leave_is_day_off,
                "extra_holidays": sorted(day.isoformat() for day in self.extra_holidays),
                "extra_collective_leave": sorted(day.isoformat() for day in self.extra_collective_leave),
                "removed": sorted(day.isoformat() for day in self.removed),
            },
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


class HolidayCalendar:
    """Answers "is this local date a day off?" for contact rules and SLA arithmetic."""

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        self.overrides = overrides or CalendarOverrides()
        self._public = holidays.country_holidays("ID", categories=("public",))
        self._collective = holidays.country_holidays("ID", categories=("government",))
        # AUD-2: every outbound decision records the calendar version it used.
        self.version = f"holidays-{_HOLIDAYS_VERSION}+{self.overrides.fingerprint()}"

    @classmethod
    def from_toml(cls, path: Path) -> HolidayCalendar:
        """Load overrides from a TOML file (see docs/policy-gate.md for the shape)."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CalendarError(f"{path}: {exc}") from exc
        return cls(overrides_from_mapping(data, source=str(path)))

    def holiday_name(self, day: date) -> str | None:
        """The national holiday on `day` (package or configured), if any."""
        if day in self.overrides.removed:
            return None
        if day in self.overrides.extra_holidays:
            return self.overrides.extra_holidays[day]
        name = self._public.get(day)
        return None if name is None else str(name)

    def collective_leave_name(self, day: date) -> str | None:
        if day in self.overrides.removed:
            return None
        if day in self.overrides.extra_collective_leave:
            return self.overrides.extra_collective_leave[day]
        name = self._collective.get(day)
        return None if name is None else str(name)

    def is_national_holiday(self, day: date) -> bool:
        return self.holiday_name(day) is not None

    def is_collective_leave(self, day: date) -> bool:
        return self.collective_leave_name(day) is not None

    def is_day_off(self, day: date) -> bool:
        """A national holiday, or cuti bersama while the flag is on; weekends are not considered."""
        if self.is_national_holiday(day):
            return True
        return self.overrides.collective_leave_is_day_off and self.is_collective_leave(day)

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and not a day off (TZ-8; the exact definition is UNCONFIRMED)."""
        return day.weekday() < SATURDAY and not self.is_day_off(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        candidate = day
        for _ in range(SEARCH_DAYS):
            candidate += timedelta(days=1)
            if self.is_working_day(candidate):
                return candidate
        raise CalendarError(f"no working day within {SEARCH_DAYS} days after {day.isoformat()}")

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (not counting `start` itself); n=0 gives `start`."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def sla_start(
        self, received_at: datetime, *, zone: ZoneInfo = WIB, office_close: time = DEFAULT_OFFICE_CLOSE
    ) -> date:
        """The working day a complaint counts as received on (TZ-8).

        Received on a working day before `office_close` (in `zone`, the institution's office
        zone): that day. After closing, on a weekend, a holiday or (flag on) cuti bersama: the
        next working day.
        """
        if received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        local = received_at.astimezone(zone)
        day = local.date()
        if self.is_working_day(day) and local.time() < office_close:
            return day
        return self.next_working_day(day)

    def sla_deadline(
        self,
        received_at: datetime,
        working_days: int,
        *,
        zone: ZoneInfo = WIB,
        office_close: time = DEFAULT_OFFICE_CLOSE,
    ) -> date:
        """The last day of an n-working-day SLA: the n-th working day after the receipt day."""
        return self.add_working_days(self.sla_start(received_at, zone=zone, office_close=office_close), working_days)


def _dates(value: Any, key: str, source: str) -> Iterable[tuple[date, str]]:
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list):
        items = [(item, key) for item in value]
    else:
        raise CalendarError(f"{source}: `{key}` must be a table of date = name or a list of dates")
    for raw, name in items:
        try:
            day = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        except ValueError as exc:
            raise CalendarError(f"{source}: `{key}` has {raw!r}, not a YYYY-MM-DD date") from exc
        yield day, str(name)


def overrides_from_mapping(data: Mapping[str, Any], *, source: str = "calendar configuration") -> CalendarOverrides:
    """Build overrides from parsed TOML/JSON; unknown keys are refused so a typo is not ignored."""
    known = {"collective_leave_is_day_off", "extra_holidays", "extra_collective_leave", "removed"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CalendarError(f"{source}: unknown keys {', '.join(unknown)}; expected {', '.join(sorted(known))}")
    flag = data.get("collective_leave_is_day_off", True)
    if not isinstance(flag, bool):
        raise CalendarError(f"{source}: `collective_leave_is_day_off` must be true or false")
    return CalendarOverrides(
        collective_leave_is_day_off=flag,
        extra_holidays=dict(_dates(data.get("extra_holidays", {}), "extra_holidays", source)),
        extra_collective_leave=dict(_dates(data.get("extra_collective_leave", {}), "extra_collective_leave", source)),
        removed=frozenset(day for day, _ in _dates(data.get("removed", []), "removed", source)),
    )
