"""The policy gate's vocabulary: purposes, rule ids (each tied to the REQ it implements), decisions.

REQ ids are from the shared ojk-compliance.md; "META" marks a WhatsApp Business platform rule and
"DESIGN" a Loket choice. Rule ids are stable: they are stored with every decision, so never rename
one; add a new id instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


class Purpose(enum.StrEnum):
    """Why a message is sent; the same values as loket.outbound.outbox.Purpose, plus collection."""

    SECURITY = "security"
    CONFIRMATION = "confirmation"
    ALERT = "alert"
    SERVICE = "service"
    MARKETING = "marketing"
    COLLECTION = "collection"


class Rule(enum.Enum):
    ALLOWED = ("allow", "")
    TENANT_INACTIVE = ("tenant.inactive", "DESIGN (issue 7: tenant must be active)")
    NUMBER_INACTIVE = ("number.inactive", "DESIGN (issue 7: number must be active)")
    RELATIONSHIP_MISSING = ("consent.relationship.missing", "OFR-11, COL-2(c)")
    MARKETING_CONSENT_MISSING = ("consent.marketing.missing", "OFR-2, OFR-3")
    MARKETING_CONSENT_WITHDRAWN = ("consent.marketing.withdrawn", "OFR-4")
    TEMPLATE_NOT_APPROVED = ("template.not_approved", "META (only approved templates may be sent)")
    WINDOW_CLOSED = ("window.closed", "META (24-hour customer service window)")
    ASKS_FOR_SECRET = ("content.asks_for_secret", "SCM-1, SCM-2")
    LINK_NOT_ALLOWED = ("content.link_not_allowed", "SCM-2")
    EXECUTABLE_ATTACHMENT = ("content.executable_attachment", "SCM-1, SCM-2")
    DECEPTIVE_FILENAME = ("content.deceptive_filename", "SCM-1 (disguised .apk files)")
    HOURS_MARKETING = ("hours.marketing", "OFR-5, TZ-3, TZ-4, TZ-5")
    HOLIDAY_MARKETING = ("holiday.marketing", "OFR-5, TZ-5, TZ-6, TZ-7")
    HOURS_COLLECTION = ("hours.collection", "COL-2(f), COL-3, TZ-3, TZ-4, TZ-5")
    HOLIDAY_COLLECTION = ("holiday.collection", "COL-2(f), TZ-5, TZ-6, TZ-7")
    CAP_MARKETING_DAILY = ("cap.marketing.daily", "OFR-9")
    CAP_MARKETING_WEEKLY = ("cap.marketing.weekly", "OFR-9")
    CAP_COLLECTION_DAILY = ("cap.collection.daily", "COL-2(d), COL-7")
    CAP_COLLECTION_WEEKLY = ("cap.collection.weekly", "COL-2(d), COL-7")
    CAP_OTHER_DAILY = ("cap.other.daily", "DESIGN (configured frequency cap)")
    CAP_OTHER_WEEKLY = ("cap.other.weekly", "DESIGN (configured frequency cap)")

    @property
    def id(self) -> str:
        return self.value[0]

    @property
    def req(self) -> str:
        return self.value[1]


class Verdict(enum.StrEnum):
    ALLOW = "allow"
    DEFER = "defer"
    REFUSE = "refuse"
    SWITCH_TO_TEMPLATE = "switch_to_template"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a decision was based on (AUD-2): the caller stores it with the decision."""

    at: datetime  # UTC
    purpose: Purpose  # the effective purpose, after the template category and the collection flag
    zone: str  # e.g. "Asia/Jakarta (domicile province)" or the TZ-4 intersection
    local_time: datetime | None  # `at` in the customer's zone; None when the zone is unknown
    calendar_version: str


@dataclass(frozen=True, slots=True)
class _Decision:
    rule: Rule
    reason: str  # for the audit record: ids, zones and times, never PII or message text
    evaluation: Evaluation

    verdict: ClassVar[Verdict] = Verdict.ALLOW  # overridden per class

    @property
    def rule_id(self) -> str:
        return self.rule.id

    @property
    def req(self) -> str:
        return self.rule.req

    def as_record(self) -> dict[str, str | None]:
        """A flat, JSON-ready record for the audit log and the outbox row."""
        local = self.evaluation.local_time
        until = getattr(self, "until", None)
        return {
            "verdict": self.verdict.value,
            "rule_id": self.rule.id,
            "req": self.rule.req or None,
            "reason": self.reason,
            "until": until.isoformat() if isinstance(until, datetime) else None,
            "evaluated_at": self.evaluation.at.isoformat(),
            "purpose": self.evaluation.purpose.value,
            "zone": self.evaluation.zone,
            "local_time": local.isoformat() if local is not None else None,
            "calendar_version": self.evaluation.calendar_version,
        }


@dataclass(frozen=True, slots=True)
class Allow(_Decision):
    verdict: ClassVar[Verdict] = Verdict.ALLOW


@dataclass(frozen=True, slots=True)
class Refuse(_Decision):
    """Never send this message as it is; the caller marks it refused and tells whoever asked."""

    verdict: ClassVar[Verdict] = Verdict.REFUSE


@dataclass(frozen=True, slots=True)
class SwitchToTemplate(_Decision):
    """Free-form outside the service window: send the purpose's approved template instead."""

    verdict: ClassVar[Verdict] = Verdict.SWITCH_TO_TEMPLATE


@dataclass(frozen=True, slots=True)
class Defer(_Decision):
    """Not now: set the row's not-before to `until` and ask again then (nothing is dropped)."""

    until: datetime  # UTC; the earliest moment every time-based rule allows

    verdict: ClassVar[Verdict] = Verdict.DEFER


Decision = Allow | Defer | Refuse | SwitchToTemplate
