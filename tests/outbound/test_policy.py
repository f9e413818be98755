"""The policy gate's rules other than contact hours (see test_policy_hours.py) and content
(test_policy_content.py): activity, consent, templates, the service window, caps, the record."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from loket.clock import FakeClock
from loket.compliance.calendar import HolidayCalendar
from loket.outbound.outbox import Purpose as OutboxPurpose
from loket.outbound.policy import (
    Allow,
    Defer,
    FrequencyCap,
    OutboundPolicy,
    OutgoingContent,
    PolicyConfig,
    PolicyFacts,
    PolicyInputError,
    PolicyRequest,
    Purpose,
    Refuse,
    Rule,
    SwitchToTemplate,
    TemplateFacts,
)
from loket.outbound.policy_rules import Verdict

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB, no holiday near
CALENDAR = HolidayCalendar()
TEXT = OutgoingContent(texts=("Transfer Rp150.000 ke rekening ****1234 berhasil.",))
PROMO = TemplateFacts(name="promo_kpr", category="MARKETING", status="APPROVED")
ALERT_TEMPLATE = TemplateFacts(name="transaction_alert", category="UTILITY", status="APPROVED")


def facts(**changes: object) -> PolicyFacts:
    base = PolicyFacts(
        purpose=Purpose.SERVICE,
        content=TEXT,
        tenant_active=True,
        number_active=True,
        relationship_exists=True,
        last_inbound_at=NOW - timedelta(hours=1),
        customer_province="Jawa Barat",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def gate(config: PolicyConfig | None = None, at: datetime = NOW) -> OutboundPolicy:
    return OutboundPolicy(CALENDAR, config, clock=FakeClock(at))


def test_a_service_reply_in_the_window_is_allowed() -> None:
    decision = gate().decide(facts())
    assert isinstance(decision, Allow)
    assert decision.rule_id == "allow"
    assert decision.evaluation.purpose is Purpose.SERVICE
    assert decision.evaluation.zone == "Asia/Jakarta (domicile province)"
    assert decision.evaluation.local_time == datetime(2026, 11, 2, 10, 0, tzinfo=UTC) - timedelta(hours=7)


@pytest.mark.parametrize(
    ("change", "rule"),
    [({"tenant_active": False}, Rule.TENANT_INACTIVE), ({"number_active": False}, Rule.NUMBER_INACTIVE)],
)
def test_inactive_tenant_or_number_refuses_every_purpose(change: dict[str, bool], rule: Rule) -> None:
    for purpose in Purpose:
        decision = gate().decide(facts(purpose=purpose, **change))
        assert isinstance(decision, Refuse)
        assert decision.rule is rule


@pytest.mark.parametrize(
    "purpose",
    [Purpose.SECURITY, Purpose.CONFIRMATION, Purpose.ALERT, Purpose.SERVICE, Purpose.COLLECTION],
)
def test_non_marketing_needs_an_existing_relationship(purpose: Purpose) -> None:
    decision = gate().decide(facts(purpose=purpose, relationship_exists=False))
    assert isinstance(decision, Refuse)
    assert decision.rule_id == "consent.relationship.missing"
    assert "OFR-11" in decision.req


def test_marketing_needs_recorded_consent_not_a_relationship() -> None:
    missing = gate().decide(facts(purpose=Purpose.MARKETING, relationship_exists=False))
    assert isinstance(missing, Refuse)
    assert missing.rule_id == "consent.marketing.missing"
    assert missing.req == "OFR-2, OFR-3"
    consented = facts(
        purpose=Purpose.MARKETING, relationship_exists=False, marketing_consent_at=NOW - timedelta(days=30)
    )
    assert isinstance(gate().decide(consented), Allow)


def test_consent_recorded_after_now_does_not_count() -> None:
    decision = gate().decide(facts(purpose=Purpose.MARKETING, marketing_consent_at=NOW + timedelta(seconds=1)))
    assert isinstance(decision, Refuse)
    assert decision.rule is Rule.MARKETING_CONSENT_MISSING


def test_opt_out_stops_marketing_until_consent_is_given_again() -> None:
    consent = NOW - timedelta(days=30)
    withdrawn = facts(
        purpose=Purpose.MARKETING, marketing_consent_at=consent, marketing_opt_out_at=NOW - timedelta(days=1)
    )
    decision = gate().decide(withdrawn)
    assert isinstance(decision, Refuse)
    assert decision.rule_id == "consent.marketing.withdrawn"
    assert decision.req == "OFR-4"
    opt_out_only = replace(withdrawn, marketing_consent_at=None)
    assert gate().decide(opt_out_only).rule is Rule.MARKETING_CONSENT_WITHDRAWN
    same_moment = replace(withdrawn, marketing_opt_out_at=consent)
    assert gate().decide(same_moment).rule is Rule.MARKETING_CONSENT_WITHDRAWN
    again = replace(withdrawn, marketing_consent_at=NOW - timedelta(hours=2))
    assert isinstance(gate().decide(again), Allow)


def test_opt_out_does_not_touch_service_messages() -> None:
    # OFR-3: refusing marketing must not stop the product from working.
    decision = gate().decide(facts(purpose=Purpose.ALERT, marketing_opt_out_at=NOW - timedelta(days=1)))
    assert isinstance(decision, Allow)


@pytest.mark.parametrize("status", ["PENDING", "REJECTED", "PAUSED", "DISABLED"])
def test_only_approved_templates_go_out(status: str) -> None:
    template = replace(ALERT_TEMPLATE, status=status)
    decision = gate().decide(facts(purpose=Purpose.ALERT, content=OutgoingContent(template=template)))
    assert isinstance(decision, Refuse)
    assert decision.rule_id == "template.not_approved"
    assert status in decision.reason


@pytest.mark.parametrize("purpose", [Purpose.ALERT, Purpose.CONFIRMATION])
def test_free_form_alert_outside_the_window_switches_to_its_template(purpose: Purpose) -> None:
    decision = gate().decide(facts(purpose=purpose, last_inbound_at=None))
    assert isinstance(decision, SwitchToTemplate)
    assert decision.rule_id == "window.closed"
    assert decision.verdict is Verdict.SWITCH_TO_TEMPLATE


@pytest.mark.parametrize("purpose", [Purpose.SECURITY, Purpose.SERVICE, Purpose.COLLECTION])
def test_other_free_form_outside_the_window_is_refused(purpose: Purpose) -> None:
    decision = gate().decide(facts(purpose=purpose, last_inbound_at=NOW - timedelta(days=2)))
    assert isinstance(decision, Refuse)
    assert decision.rule is Rule.WINDOW_CLOSED


def test_template_fallback_purposes_are_configurable() -> None:
    config = PolicyConfig(template_fallback=frozenset({Purpose.SECURITY}))
    assert isinstance(gate(config).decide(facts(purpose=Purpose.SECURITY, last_inbound_at=None)), SwitchToTemplate)
    assert isinstance(gate(config).decide(facts(purpose=Purpose.ALERT, last_inbound_at=None)), Refuse)


def test_a_template_needs_no_window() -> None:
    content = OutgoingContent(template=ALERT_TEMPLATE)
    assert isinstance(gate().decide(facts(purpose=Purpose.ALERT, content=content, last_inbound_at=None)), Allow)


def test_window_boundary_with_the_margin() -> None:
    day = timedelta(hours=24)
    open_ = facts(last_inbound_at=NOW - day + timedelta(seconds=61))
    closed = facts(last_inbound_at=NOW - day + timedelta(seconds=59))
    assert isinstance(gate().decide(open_), Allow)
    assert gate().decide(closed).rule is Rule.WINDOW_CLOSED
    exact = PolicyConfig(window_margin=timedelta(0))
    assert isinstance(gate(exact).decide(facts(last_inbound_at=NOW - day + timedelta(microseconds=1))), Allow)
    assert gate(exact).decide(facts(last_inbound_at=NOW - day)).rule is Rule.WINDOW_CLOSED


def test_a_marketing_template_is_marketing_whatever_the_caller_says() -> None:
    content = OutgoingContent(template=PROMO)
    decision = gate().decide(facts(purpose=Purpose.ALERT, content=content))
    assert isinstance(decision, Refuse)
    assert decision.rule is Rule.MARKETING_CONSENT_MISSING
    assert decision.evaluation.purpose is Purpose.MARKETING
    assert "declared alert" in decision.reason


def test_the_collection_flag_applies_collection_rules() -> None:
    evening = NOW + timedelta(hours=11)  # Monday 21:00 WIB
    decision = gate(at=evening).decide(facts(purpose=Purpose.SERVICE, collection=True))
    assert isinstance(decision, Defer)
    assert decision.rule_id == "hours.collection"
    assert decision.evaluation.purpose is Purpose.COLLECTION
    assert decision.until == datetime(2026, 11, 3, 1, 0, tzinfo=UTC)  # Tuesday 08:00 WIB


def marketing(**changes: object) -> PolicyFacts:
    return facts(purpose=Purpose.MARKETING, marketing_consent_at=NOW - timedelta(days=90), **changes)


def test_marketing_daily_cap_defers_until_the_last_send_is_a_day_old() -> None:
    sent = NOW - timedelta(hours=2)
    decision = gate().decide(marketing(recent_sends={Purpose.MARKETING: [sent]}))
    assert isinstance(decision, Defer)
    assert decision.rule_id == "cap.marketing.daily"
    assert decision.req == "OFR-9"
    assert decision.until == sent + timedelta(hours=24)  # Tuesday 08:00 WIB: inside the hours
    later = gate(at=decision.until).decide(marketing(recent_sends={Purpose.MARKETING: [sent]}))
    assert isinstance(later, Allow)


def test_marketing_weekly_cap() -> None:
    sends = [NOW - timedelta(days=days, hours=1) for days in (1, 3, 5)]  # none in the last 24 hours
    decision = gate().decide(marketing(recent_sends={Purpose.MARKETING: sends}))
    assert isinstance(decision, Defer)
    assert decision.rule_id == "cap.marketing.weekly"
    # The oldest (Tue 27 Oct 09:00 WIB) leaves the 7-day window on Tue 3 Nov 09:00 WIB.
    assert decision.until == min(sends) + timedelta(days=7)


def test_a_cap_that_lands_outside_hours_moves_on_to_the_next_slot() -> None:
    saturday_1730 = datetime(2026, 11, 7, 10, 30, tzinfo=UTC)  # 17:30 WIB
    at = saturday_1730 + timedelta(minutes=10)
    promo = OutgoingContent(template=PROMO)
    decision = gate(at=at).decide(marketing(content=promo, recent_sends={Purpose.MARKETING: [saturday_1730]}))
    assert isinstance(decision, Defer)
    assert decision.rule is Rule.CAP_MARKETING_DAILY  # hours still open at 17:40: the cap decides
    assert decision.until == datetime(2026, 11, 9, 1, 0, tzinfo=UTC)  # Sunday 17:30 is closed: Monday 08:00


def test_collection_is_capped_by_default_and_other_purposes_are_not() -> None:
    sent = [NOW - timedelta(hours=3)]
    decision = gate().decide(facts(purpose=Purpose.COLLECTION, recent_sends={Purpose.COLLECTION: sent}))
    assert isinstance(decision, Defer)
    assert decision.rule_id == "cap.collection.daily"
    many = [NOW - timedelta(minutes=minutes) for minutes in range(1, 50)]
    for purpose in (Purpose.SECURITY, Purpose.CONFIRMATION, Purpose.ALERT, Purpose.SERVICE):
        assert isinstance(gate().decide(facts(purpose=purpose, recent_sends={purpose: many})), Allow)


def test_caps_are_configurable_but_never_for_security_or_confirmations() -> None:
    config = PolicyConfig(caps={Purpose.SERVICE: FrequencyCap(per_day=2)})
    sends = {Purpose.SERVICE: [NOW - timedelta(hours=5), NOW - timedelta(hours=1)]}
    decision = gate(config).decide(facts(recent_sends=sends))
    assert isinstance(decision, Defer)
    assert decision.rule_id == "cap.other.daily"
    assert decision.until == NOW + timedelta(hours=19)
    for purpose in (Purpose.SECURITY, Purpose.CONFIRMATION):
        with pytest.raises(ValueError, match="never capped"):
            PolicyConfig(caps={purpose: FrequencyCap(per_day=10)})
    with pytest.raises(ValueError, match="at least one"):
        FrequencyCap(per_day=0)


def test_permanent_refusals_come_before_deferrals() -> None:
    sunday = datetime(2026, 11, 8, 3, tzinfo=UTC)
    no_consent = facts(purpose=Purpose.MARKETING)
    assert isinstance(gate(at=sunday).decide(no_consent), Refuse)
    bad_link = marketing(content=OutgoingContent(texts=("Promo di https://bank-nusantara-promo.com",)))
    assert gate(at=sunday).decide(bad_link).rule is Rule.LINK_NOT_ALLOWED
    outside_window = facts(purpose=Purpose.ALERT, last_inbound_at=None, content=bad_link.content)
    assert gate().decide(outside_window).rule is Rule.LINK_NOT_ALLOWED


def test_the_record_is_flat_json_without_message_text() -> None:
    decision = gate().decide(marketing(recent_sends={Purpose.MARKETING: [NOW - timedelta(hours=2)]}))
    record = decision.as_record()
    assert json.loads(json.dumps(record)) == record
    assert record["verdict"] == "defer"
    assert record["rule_id"] == "cap.marketing.daily"
    assert record["until"] == "2026-11-03T01:00:00+00:00"
    assert record["zone"] == "Asia/Jakarta (domicile province)"
    assert record["local_time"] == "2026-11-02T10:00:00+07:00"
    assert record["calendar_version"] == CALENDAR.version
    assert "Rp150.000" not in json.dumps(record)


def test_rule_ids_are_stable_and_each_names_its_basis() -> None:
    assert {rule.id for rule in Rule} == {
        "allow",
        "tenant.inactive",
        "number.inactive",
        "consent.relationship.missing",
        "consent.marketing.missing",
        "consent.marketing.withdrawn",
        "template.not_approved",
        "window.closed",
        "content.asks_for_secret",
        "content.link_not_allowed",
        "content.executable_attachment",
        "content.deceptive_filename",
        "hours.marketing",
        "holiday.marketing",
        "hours.collection",
        "holiday.collection",
        "cap.marketing.daily",
        "cap.marketing.weekly",
        "cap.collection.daily",
        "cap.collection.weekly",
        "cap.other.daily",
        "cap.other.weekly",
    }
    assert all(rule.req for rule in Rule if rule is not Rule.ALLOWED)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 2, 10)
    with pytest.raises(PolicyInputError, match="timezone-aware"):
        facts(last_inbound_at=naive)
    with pytest.raises(PolicyInputError, match="timezone-aware"):
        facts(recent_sends={Purpose.SERVICE: [naive]})
    with pytest.raises(PolicyInputError, match="timezone-aware"):
        gate().decide(facts(), now=naive)


def test_every_outbox_purpose_is_a_policy_purpose() -> None:
    assert {Purpose(purpose.value) for purpose in OutboxPurpose} <= set(Purpose)


async def test_evaluate_asks_the_port_for_the_facts() -> None:
    asked: list[PolicyRequest] = []

    class Port:
        async def policy_facts(self, request: PolicyRequest) -> PolicyFacts:
            asked.append(request)
            return facts(purpose=request.purpose, content=OutgoingContent.from_payload(request.payload))

    request = PolicyRequest(
        "bank-a", "1001", "6281200000001", Purpose.SERVICE, {"type": "text", "text": {"body": "Hai"}}
    )
    decision = await gate().evaluate(Port(), request)
    assert isinstance(decision, Allow)
    assert asked == [request]
