"""The outbound policy gate: one pure decision that every outbound message passes before sending.

The caller gathers the facts (PolicyFacts, through a PolicyFactsPort) and gets back a Decision:
Allow, Defer(until), Refuse or SwitchToTemplate, each with a stable rule id, the REQ it
implements and a PII-free reason, to be recorded (AUD-2). Rules, in order (the first that
applies decides, so permanent refusals come before deferrals):

1. tenant and number active;
2. an approved template (when it is one);
3. consent: marketing needs recorded marketing consent not withdrawn since (OFR-2, OFR-4); every
   other purpose an existing relationship (OFR-11; collection only to the consumer, COL-2(c));
4. content: no request for a secret, links only to allow-listed domains, no executable (SCM-2);
5. the 24-hour customer service window for free-form messages;
6. time: marketing and collection hours and days off in the customer's zone, and frequency caps;
   outside them the message is deferred to the exact next slot all of them allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol

from loket.clock import Clock, system_clock
from loket.compliance.calendar import HolidayCalendar
from loket.compliance.hours import COLLECTION_HOURS, OFFER_HOURS, ContactHours
from loket.compliance.zones import ContactZone, resolve_zone
from loket.outbound.policy_content import OutgoingContent, PolicyInputError, TemplateFacts, content_problem
from loket.outbound.policy_rules import (
    Allow,
    Decision,
    Defer,
    Evaluation,
    Purpose,
    Refuse,
    Rule,
    SwitchToTemplate,
)
from loket.outbound.policy_timing import HoursRule, TimeRule, cap_rules, first_block, next_slot

SERVICE_WINDOW = timedelta(hours=24)
NEVER_CAPPED = frozenset({Purpose.SECURITY, Purpose.CONFIRMATION})


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """Per customer, in rolling windows; None means no cap for that window (OFR-9, COL-7)."""

    per_day: int | None = None
    per_week: int | None = None

    def __post_init__(self) -> None:
        for value in (self.per_day, self.per_week):
            if value is not None and value < 1:
                raise ValueError("a frequency cap must allow at least one message; leave it None for no cap")


DEFAULT_CAPS: Mapping[Purpose, FrequencyCap] = MappingProxyType(
    {
        Purpose.MARKETING: FrequencyCap(per_day=1, per_week=3),
        Purpose.COLLECTION: FrequencyCap(per_day=1),
    }
)


@dataclass(frozen=True, slots=True)
class HoursOverride:
    """Contact hours the consumer agreed to outside the rule, recorded with consent (COL-3)."""

    hours: ContactHours
    until: datetime


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    caps: Mapping[Purpose, FrequencyCap] = field(default_factory=lambda: DEFAULT_CAPS)
    # Purposes whose free-form message outside the window is replaced by their approved template.
    template_fallback: frozenset[Purpose] = frozenset({Purpose.ALERT, Purpose.CONFIRMATION})
    # Allowed in every tenant's messages: the regulator's channels customers are pointed to (SCM-3).
    always_allowed_domains: frozenset[str] = frozenset({"ojk.go.id"})
    # The window is treated as closing this much early: the send happens a moment after the decision.
    window_margin: timedelta = timedelta(minutes=1)
    offer_hours: ContactHours = OFFER_HOURS
    collection_hours: ContactHours = COLLECTION_HOURS

    def __post_init__(self) -> None:
        capped = sorted(purpose.value for purpose in NEVER_CAPPED if purpose in self.caps)
        if capped:
            raise ValueError(f"{', '.join(capped)} messages are never capped")


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyFacts:
    """Everything the gate needs to know about one message; the caller fills it in."""

    purpose: Purpose
    content: OutgoingContent
    tenant_active: bool
    number_active: bool
    relationship_exists: bool
    marketing_consent_at: datetime | None = None
    marketing_opt_out_at: datetime | None = None
    last_inbound_at: datetime | None = None  # the customer's last message: the service window
    customer_zone: str | None = None  # IANA key or WIB/WITA/WIT, when recorded
    customer_province: str | None = None  # domicile or billing-address province (TZ-3)
    # When earlier messages to this customer were sent, by purpose, for at least the last 7 days.
    recent_sends: Mapping[Purpose, Sequence[datetime]] = field(default_factory=dict)
    allowed_link_domains: frozenset[str] = frozenset()
    collection: bool = False  # about an overdue obligation, whatever `purpose` says: COL-2 applies
    offer_requested_by_customer: bool = False  # OFR-5: the customer asked for this offer now
    collection_hours_override: HoursOverride | None = None

    def __post_init__(self) -> None:
        moments = [self.marketing_consent_at, self.marketing_opt_out_at, self.last_inbound_at]
        moments += [sent for sends in self.recent_sends.values() for sent in sends]
        if self.collection_hours_override is not None:
            moments.append(self.collection_hours_override.until)
        if any(moment is not None and moment.tzinfo is None for moment in moments):
            raise PolicyInputError("policy facts need timezone-aware datetimes (UTC inside Loket)")


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    tenant_id: str
    phone_number_id: str
    wa_id: str
    purpose: Purpose
    payload: Mapping[str, Any]  # the `type` + type-object part of the send body
    collection: bool = False


class PolicyFactsPort(Protocol):
    """Where the facts come from (tenants, numbers, consent, conversations, the outbox, templates)."""

    async def policy_facts(self, request: PolicyRequest) -> PolicyFacts: ...


class OutboundPolicy:
    def __init__(
        self,
        calendar: HolidayCalendar | None = None,
        config: PolicyConfig | None = None,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self.calendar = calendar or HolidayCalendar()
        self.config = config or PolicyConfig()
        self._clock = clock

    async def evaluate(self, port: PolicyFactsPort, request: PolicyRequest) -> Decision:
        return self.decide(await port.policy_facts(request))

    def decide(self, facts: PolicyFacts, *, now: datetime | None = None) -> Decision:
        moment = now or self._clock.now()
        if moment.tzinfo is None:
            raise PolicyInputError("now must be timezone-aware")
        at = moment.astimezone(UTC)
        purpose, purpose_note = self._effective_purpose(facts)
        zone = resolve_zone(facts.customer_zone, facts.customer_province)
        evaluation = Evaluation(
            at=at,
            purpose=purpose,
            zone=zone.label,
            local_time=at.astimezone(zone.zones[0]) if zone.known else None,
            calendar_version=self.calendar.version,
        )
        refusal = self._refusal(facts, purpose, at)
        if refusal is not None:
            return Refuse(refusal[0], refusal[1] + purpose_note, evaluation)
        if facts.content.free_form and not self._window_open(facts.last_inbound_at, at):
            reason = "free-form message outside the 24-hour customer service window" + purpose_note
            if purpose in self.config.template_fallback:
                return SwitchToTemplate(Rule.WINDOW_CLOSED, reason + "; send the approved template", evaluation)
            return Refuse(Rule.WINDOW_CLOSED, reason, evaluation)
        rules = self._time_rules(facts, purpose, zone, at)
        blocked = first_block(rules, at)
        if blocked is not None:
            until = next_slot(rules, at)
            reason = f"{blocked[1]}; next allowed {until.isoformat()}{purpose_note}"
            return Defer(blocked[0], reason, evaluation, until)
        return Allow(
            Rule.ALLOWED, "all rules passed" + purpose_note + self._exemption_note(facts, purpose, at), evaluation
        )

    @staticmethod
    def _effective_purpose(facts: PolicyFacts) -> tuple[Purpose, str]:
        template = facts.content.template
        if template is not None and template.marketing and facts.purpose is not Purpose.MARKETING:
            # OFR-11: what a Meta MARKETING template says is marketing, whatever the caller called it.
            return Purpose.MARKETING, f" (declared {facts.purpose.value}; the template's category is marketing)"
        if facts.collection and facts.purpose is not Purpose.COLLECTION:
            return Purpose.COLLECTION, f" (declared {facts.purpose.value}; flagged as collection)"
        return facts.purpose, ""

    def _refusal(self, facts: PolicyFacts, purpose: Purpose, at: datetime) -> tuple[Rule, str] | None:
        if not facts.tenant_active:
            return Rule.TENANT_INACTIVE, "the tenant is not active"
        if not facts.number_active:
            return Rule.NUMBER_INACTIVE, "the sending number is not active"
        template = facts.content.template
        if template is not None and not template.approved:
            return Rule.TEMPLATE_NOT_APPROVED, f"template {template.name} is {template.status}, not APPROVED"
        if purpose is Purpose.MARKETING:
            consent = self._marketing_consent(facts, at)
            if consent is not None:
                return consent
        elif not facts.relationship_exists:
            return Rule.RELATIONSHIP_MISSING, f"{purpose.value} messages need an existing relationship"
        return content_problem(facts.content, facts.allowed_link_domains | self.config.always_allowed_domains)

    @staticmethod
    def _marketing_consent(facts: PolicyFacts, at: datetime) -> tuple[Rule, str] | None:
        consent, opt_out = facts.marketing_consent_at, facts.marketing_opt_out_at
        if opt_out is not None and (consent is None or opt_out >= consent):
            # OFR-4: a withdrawal acts at once and stands until consent is given again.
            return Rule.MARKETING_CONSENT_WITHDRAWN, "the customer withdrew marketing consent"
        if consent is None or consent > at:
            return Rule.MARKETING_CONSENT_MISSING, "no marketing consent is recorded for this customer"
        return None

    def _window_open(self, last_inbound_at: datetime | None, at: datetime) -> bool:
        if last_inbound_at is None:
            return False
        return at < last_inbound_at + SERVICE_WINDOW - self.config.window_margin

    def _hours_override(self, facts: PolicyFacts, purpose: Purpose, at: datetime) -> HoursOverride | None:
        override = facts.collection_hours_override
        if purpose is Purpose.COLLECTION and override is not None and at < override.until:
            return override
        return None

    def _time_rules(self, facts: PolicyFacts, purpose: Purpose, zone: ContactZone, at: datetime) -> list[TimeRule]:
        rules: list[TimeRule] = []
        if purpose is Purpose.MARKETING and not facts.offer_requested_by_customer:
            rules.append(
                HoursRule(
                    self.config.offer_hours,
                    zone,
                    self.calendar,
                    Rule.HOURS_MARKETING,
                    Rule.HOLIDAY_MARKETING,
                    "marketing",
                )
            )
        elif purpose is Purpose.COLLECTION:
            override = self._hours_override(facts, purpose, at)
            rules.append(
                HoursRule(
                    override.hours if override is not None else self.config.collection_hours,
                    zone,
                    self.calendar,
                    Rule.HOURS_COLLECTION,
                    Rule.HOLIDAY_COLLECTION,
                    "collection (agreed hours, COL-3)" if override is not None else "collection",
                )
            )
        cap = self.config.caps.get(purpose)
        if cap is not None and purpose not in NEVER_CAPPED:
            rules.extend(cap_rules(purpose, cap.per_day, cap.per_week, facts.recent_sends.get(purpose, ())))
        return rules

    def _exemption_note(self, facts: PolicyFacts, purpose: Purpose, at: datetime) -> str:
        if purpose is Purpose.MARKETING and facts.offer_requested_by_customer:
            return "; offer hours not applied: the customer asked for this offer (OFR-5)"
        override = self._hours_override(facts, purpose, at)
        if override is not None:
            return f"; agreed collection hours {override.hours.describe()} until {override.until.isoformat()} (COL-3)"
        return ""


__all__ = [
    "Allow",
    "Decision",
    "Defer",
    "FrequencyCap",
    "HoursOverride",
    "OutboundPolicy",
    "OutgoingContent",
    "PolicyConfig",
    "PolicyFacts",
    "PolicyFactsPort",
    "PolicyInputError",
    "PolicyRequest",
    "Purpose",
    "Refuse",
    "Rule",
    "SwitchToTemplate",
    "TemplateFacts",
]
