"""Marketing and collection hours through the gate, at their boundaries in each zone (TZ-4, OFR-5,
COL-2(f)), with the exact next slot across nights, Sundays and holiday runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from loket.clock import FakeClock
from loket.compliance.calendar import CalendarOverrides, HolidayCalendar
from loket.compliance.hours import ContactHours
from loket.compliance.zones import WIB, WIT, WITA
from loket.outbound.policy import (
    Allow,
    Decision,
    Defer,
    HoursOverride,
    OutboundPolicy,
    OutgoingContent,
    PolicyFacts,
    Purpose,
    TemplateFacts,
)

CALENDAR = HolidayCalendar()
PROMO = OutgoingContent(template=TemplateFacts(name="promo_kpr", category="MARKETING", status="APPROVED"))
REMINDER = OutgoingContent(template=TemplateFacts(name="payment_reminder", category="UTILITY", status="APPROVED"))
# Province per zone, and None for an unknown zone (evaluated as WIB, WITA and WIT together).
PROVINCES = {WIB: "Jawa Tengah", WITA: "Sulawesi Selatan", WIT: "Papua"}
ZONES = [WIB, WITA, WIT]


def at_local(zone: ZoneInfo, month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def decide(moment: datetime, purpose: Purpose, province: str | None, calendar: HolidayCalendar = CALENDAR) -> Decision:
    facts = PolicyFacts(
        purpose=purpose,
        content=PROMO if purpose is Purpose.MARKETING else REMINDER,
        tenant_active=True,
        number_active=True,
        relationship_exists=True,
        marketing_consent_at=datetime(2026, 1, 1, tzinfo=UTC),
        customer_province=province,
    )
    return OutboundPolicy(calendar, clock=FakeClock(moment)).decide(facts)


def deferred(decision: Decision, rule_id: str, until: datetime) -> None:
    assert isinstance(decision, Defer), decision
    assert decision.rule_id == rule_id
    assert decision.until == until
    assert until.isoformat() in decision.reason


@pytest.mark.parametrize("zone", ZONES, ids=lambda zone: zone.key)
def test_marketing_boundaries_in_each_zone(zone: ZoneInfo) -> None:
    province = PROVINCES[zone]
    deferred(
        decide(at_local(zone, 11, 2, 7, 59), Purpose.MARKETING, province), "hours.marketing", at_local(zone, 11, 2, 8)
    )
    assert isinstance(decide(at_local(zone, 11, 2, 8), Purpose.MARKETING, province), Allow)
    assert isinstance(decide(at_local(zone, 11, 2, 17, 59), Purpose.MARKETING, province), Allow)
    deferred(
        decide(at_local(zone, 11, 2, 18), Purpose.MARKETING, province), "hours.marketing", at_local(zone, 11, 3, 8)
    )


@pytest.mark.parametrize("zone", ZONES, ids=lambda zone: zone.key)
def test_collection_boundaries_in_each_zone(zone: ZoneInfo) -> None:
    province = PROVINCES[zone]
    deferred(
        decide(at_local(zone, 11, 2, 7, 59), Purpose.COLLECTION, province), "hours.collection", at_local(zone, 11, 2, 8)
    )
    assert isinstance(decide(at_local(zone, 11, 2, 8), Purpose.COLLECTION, province), Allow)
    assert isinstance(decide(at_local(zone, 11, 2, 19, 59), Purpose.COLLECTION, province), Allow)
    deferred(
        decide(at_local(zone, 11, 2, 20), Purpose.COLLECTION, province), "hours.collection", at_local(zone, 11, 3, 8)
    )


@pytest.mark.parametrize("zone", ZONES, ids=lambda zone: zone.key)
@pytest.mark.parametrize("purpose", [Purpose.MARKETING, Purpose.COLLECTION])
def test_saturday_yes_sunday_no(zone: ZoneInfo, purpose: Purpose) -> None:
    province = PROVINCES[zone]
    assert isinstance(decide(at_local(zone, 11, 7, 10), purpose, province), Allow)
    deferred(decide(at_local(zone, 11, 8, 10), purpose, province), f"hours.{purpose.value}", at_local(zone, 11, 9, 8))


@pytest.mark.parametrize("zone", ZONES, ids=lambda zone: zone.key)
@pytest.mark.parametrize("purpose", [Purpose.MARKETING, Purpose.COLLECTION])
def test_a_national_holiday(zone: ZoneInfo, purpose: Purpose) -> None:
    decision = decide(at_local(zone, 8, 17, 10), purpose, PROVINCES[zone])
    deferred(decision, f"holiday.{purpose.value}", at_local(zone, 8, 18, 8))
    assert "Independence Day" in decision.reason
    assert "TZ-5" in decision.req


@pytest.mark.parametrize("zone", ZONES, ids=lambda zone: zone.key)
def test_the_day_after_the_idul_fitri_run(zone: ZoneInfo) -> None:
    province = PROVINCES[zone]
    # Tue 17 March 2026 after hours; Wed 18 to Tue 24 are holidays, cuti bersama and a weekend.
    deferred(
        decide(at_local(zone, 3, 17, 18), Purpose.MARKETING, province), "hours.marketing", at_local(zone, 3, 25, 8)
    )
    deferred(
        decide(at_local(zone, 3, 23, 9), Purpose.MARKETING, province), "holiday.marketing", at_local(zone, 3, 25, 8)
    )
    assert isinstance(decide(at_local(zone, 3, 25, 8), Purpose.MARKETING, province), Allow)


def test_cuti_bersama_flag_off_opens_the_leave_days() -> None:
    lenient = HolidayCalendar(CalendarOverrides(collective_leave_is_day_off=False))
    assert isinstance(decide(at_local(WIB, 3, 23, 9), Purpose.MARKETING, "Banten", lenient), Allow)
    deferred(
        decide(at_local(WIB, 3, 17, 18), Purpose.MARKETING, "Banten", lenient),
        "hours.marketing",
        at_local(WIB, 3, 18, 8),
    )
    deferred(
        decide(at_local(WIB, 3, 20, 18), Purpose.MARKETING, "Banten", lenient),
        "hours.marketing",
        at_local(WIB, 3, 23, 8),
    )


def test_year_end_lands_on_a_saturday() -> None:
    # Thu 31 Dec 2026 18:00: 1 Jan is a holiday, Saturday 2 Jan is allowed.
    deferred(
        decide(at_local(WIT, 12, 31, 18), Purpose.MARKETING, "Maluku"),
        "hours.marketing",
        at_local(WIT, 1, 2, 8, year=2027),
    )


@pytest.mark.parametrize(
    ("purpose", "close"), [(Purpose.MARKETING, 16), (Purpose.COLLECTION, 18)], ids=["marketing", "collection"]
)
def test_unknown_zone_uses_the_intersection(purpose: Purpose, close: int) -> None:
    rule = f"hours.{purpose.value}"
    deferred(decide(at_local(WIB, 11, 2, 7, 59), purpose, None), rule, at_local(WIB, 11, 2, 8))
    allowed = decide(at_local(WIB, 11, 2, 8), purpose, None)
    assert isinstance(allowed, Allow)
    assert allowed.evaluation.local_time is None
    assert "TZ-4" in allowed.evaluation.zone
    assert isinstance(decide(at_local(WIB, 11, 2, close - 1, 59), purpose, None), Allow)
    deferred(decide(at_local(WIB, 11, 2, close), purpose, None), rule, at_local(WIB, 11, 3, 8))
    deferred(decide(at_local(WIB, 11, 7, close), purpose, None), rule, at_local(WIB, 11, 9, 8))
    unknown_province = decide(at_local(WIB, 11, 2, close), purpose, "Atlantis")
    assert isinstance(unknown_province, Defer)


def test_an_offer_the_customer_asked_for_ignores_the_hours() -> None:
    # OFR-5: outside the hours only at the consumer's request.
    sunday_night = at_local(WIB, 11, 8, 21)
    facts = PolicyFacts(
        purpose=Purpose.MARKETING,
        content=OutgoingContent(texts=("Simulasi KPR yang Anda minta",)),
        tenant_active=True,
        number_active=True,
        relationship_exists=True,
        marketing_consent_at=datetime(2026, 1, 1, tzinfo=UTC),
        last_inbound_at=sunday_night - timedelta(minutes=2),
        offer_requested_by_customer=True,
    )
    decision = OutboundPolicy(CALENDAR, clock=FakeClock(sunday_night)).decide(facts)
    assert isinstance(decision, Allow)
    assert "OFR-5" in decision.reason


def test_agreed_collection_hours_apply_until_they_expire() -> None:
    # COL-3: a shift worker agreed to reminders 19:00-22:00, any day, until the end of November.
    agreed = HoursOverride(
        ContactHours(time(19), time(22), days=frozenset(range(7)), closed_on_days_off=False),
        until=at_local(WIB, 12, 1, 0),
    )
    facts = PolicyFacts(
        purpose=Purpose.COLLECTION,
        content=REMINDER,
        tenant_active=True,
        number_active=True,
        relationship_exists=True,
        customer_province="DKI Jakarta",
        collection_hours_override=agreed,
    )
    sunday_2100 = at_local(WIB, 11, 8, 21)
    allowed = OutboundPolicy(CALENDAR, clock=FakeClock(sunday_2100)).decide(facts)
    assert isinstance(allowed, Allow)
    assert "COL-3" in allowed.reason
    morning = OutboundPolicy(CALENDAR, clock=FakeClock(at_local(WIB, 11, 9, 10))).decide(facts)
    deferred(morning, "hours.collection", at_local(WIB, 11, 9, 19))
    expired = OutboundPolicy(CALENDAR, clock=FakeClock(at_local(WIB, 12, 6, 21))).decide(facts)
    deferred(expired, "hours.collection", at_local(WIB, 12, 7, 8))
    other_purpose = OutboundPolicy(CALENDAR, clock=FakeClock(sunday_2100)).decide(
        replace(facts, purpose=Purpose.MARKETING, content=PROMO, marketing_consent_at=datetime(2026, 1, 1, tzinfo=UTC))
    )
    assert isinstance(other_purpose, Defer)


@pytest.mark.parametrize("purpose", [Purpose.SECURITY, Purpose.CONFIRMATION, Purpose.ALERT, Purpose.SERVICE])
def test_transactional_messages_have_no_hours(purpose: Purpose) -> None:
    assert isinstance(decide(at_local(WIB, 8, 17, 3), purpose, "Jawa Timur"), Allow)


def test_the_recorded_zone_beats_the_province() -> None:
    facts = PolicyFacts(
        purpose=Purpose.MARKETING,
        content=PROMO,
        tenant_active=True,
        number_active=True,
        relationship_exists=True,
        marketing_consent_at=datetime(2026, 1, 1, tzinfo=UTC),
        customer_zone="Asia/Jayapura",
        customer_province="Aceh",
    )
    seven_wib = at_local(WIB, 11, 2, 7)  # 09:00 WIT
    decision = OutboundPolicy(CALENDAR, clock=FakeClock(seven_wib)).decide(facts)
    assert isinstance(decision, Allow)
    assert decision.evaluation.zone == "Asia/Jayapura (recorded zone)"
