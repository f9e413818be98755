"""The catalogue of audit events and the fields each one carries.

Every field has a kind, and only declared fields are accepted, so plaintext personal data cannot
slip into a leaf through an undeclared field: personal values are declared PERSONAL and replaced by
a keyed hash before they reach the log.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime


class EventType(enum.StrEnum):
    STAFF_LOGIN = "staff.login"
    STAFF_LOGIN_FAILED = "staff.login_failed"
    STAFF_LOGOUT = "staff.logout"
    TOTP_ENROLLED = "staff.totp_enrolled"
    PERMISSION_GRANTED = "permission.granted"
    PERMISSION_REVOKED = "permission.revoked"
    PII_REVEALED = "pii.revealed"
    MESSAGE_RECEIVED = "message.received"
    MESSAGE_SENT = "message.sent"
    CONSENT_CHANGED = "consent.changed"
    POLICY_DECISION = "policy.decision"
    TEMPLATE_APPROVED = "template.approved"
    CAMPAIGN_APPROVED = "campaign.approved"
    CONFIG_CHANGED = "config.changed"
    KEY_CHANGED = "key.changed"
    EXPORT_CREATED = "export.created"
    DSR_RECEIVED = "dsr.received"
    DSR_COMPLETED = "dsr.completed"
    # data-subject requests and retention (loket.privacy, docs/privacy.md)
    DSR_STEP = "dsr.step"
    DSR_OVERDUE = "dsr.overdue"
    LEGAL_HOLD_CHANGED = "legal_hold.changed"
    RETENTION_PURGED = "retention.purged"
    COMPLAINT_MILESTONE = "complaint.milestone"
    INCIDENT_MILESTONE = "incident.milestone"
    NOTICE_CREATED = "notice.created"
    CONVERSATION_ASSIGNED = "conversation.assigned"  # console: take, assign, transfer, auto, release
    CONVERSATION_ACTION = "conversation.action"  # console: reply, template, file, note, hand back, close, file views
    # encryption at rest (loket.security, docs/encryption.md)
    KEY_SHREDDED = "key.shredded"  # a customer's data key destroyed: their stored content is unreadable


class Kind(enum.Enum):
    REF = "ref"  # an identifier: staff id, wamid, template id; never a name or a number of a person
    CODE = "code"  # a short token from a fixed vocabulary: [a-z0-9][a-z0-9_.:-]{0,63}
    PERSONAL = "personal"  # personal data: stored only as a per-tenant keyed hash
    DIGEST = "digest"  # a SHA-256 in lowercase hex, of something kept elsewhere
    INT = "int"
    BOOL = "bool"
    TIME = "time"  # a timezone-aware datetime, stored as UTC ISO 8601


@dataclass(frozen=True)
class Field:
    kind: Kind
    required: bool = True


def _f(kind: Kind, required: bool = True) -> Field:
    return Field(kind, required)


REF, CODE, PERSONAL, DIGEST, INT, BOOL, TIME = (_f(k) for k in Kind)
OPT_REF, OPT_CODE, OPT_PERSONAL, OPT_DIGEST, OPT_INT, OPT_TIME = (
    _f(k, False) for k in (Kind.REF, Kind.CODE, Kind.PERSONAL, Kind.DIGEST, Kind.INT, Kind.TIME)
)

CATALOGUE: Mapping[EventType, Mapping[str, Field]] = {
    EventType.STAFF_LOGIN: {"staff": REF, "method": CODE, "session": OPT_REF},
    EventType.STAFF_LOGIN_FAILED: {"staff": OPT_REF, "reason": CODE},
    EventType.STAFF_LOGOUT: {"staff": REF, "session": OPT_REF, "reason": OPT_CODE},
    EventType.TOTP_ENROLLED: {"staff": REF, "by": OPT_REF},
    EventType.PERMISSION_GRANTED: {"staff": REF, "permission": CODE, "by": REF},
    EventType.PERMISSION_REVOKED: {"staff": REF, "permission": CODE, "by": REF},
    EventType.PII_REVEALED: {
        "staff": REF,
        "customer": PERSONAL,
        "field": CODE,
        "reason": CODE,
        "note": OPT_PERSONAL,
        "case": OPT_REF,
    },
    EventType.MESSAGE_RECEIVED: {
        "wamid": REF,
        "phone_number_id": REF,
        "customer": PERSONAL,
        "kind": CODE,
        "body": OPT_PERSONAL,
    },
    EventType.MESSAGE_SENT: {
        "outbox_id": REF,
        "phone_number_id": REF,
        "customer": PERSONAL,
        "kind": CODE,
        "purpose": CODE,
        "wamid": OPT_REF,
        "template": OPT_REF,
        "body": OPT_PERSONAL,
    },
    EventType.CONSENT_CHANGED: {
        "customer": PERSONAL,
        "purpose": CODE,
        "granted": BOOL,
        "channel": CODE,
        "legal_basis": OPT_CODE,
    },
    EventType.POLICY_DECISION: {
        "rule": CODE,
        "decision": CODE,  # allowed, queued, blocked
        "message_class": CODE,
        "subject": OPT_REF,
        "zone": OPT_CODE,
        "local_time": OPT_TIME,
        "calendar_version": OPT_REF,
        "reason": OPT_CODE,
    },
    EventType.TEMPLATE_APPROVED: {"template": REF, "version": REF, "by": REF},
    EventType.CAMPAIGN_APPROVED: {"campaign": REF, "by": REF, "audience_size": OPT_INT},
    EventType.CONFIG_CHANGED: {"setting": CODE, "by": REF, "old": OPT_DIGEST, "new": OPT_DIGEST},
    EventType.KEY_CHANGED: {"purpose": CODE, "action": CODE, "key": REF, "by": OPT_REF},
    EventType.EXPORT_CREATED: {"export": REF, "kind": CODE, "by": REF, "rows": INT, "sha256": OPT_DIGEST},
    EventType.DSR_RECEIVED: {"request": REF, "right": CODE, "customer": PERSONAL, "due_at": TIME},
    EventType.DSR_COMPLETED: {"request": REF, "outcome": CODE, "by": OPT_REF},
    EventType.DSR_STEP: {
        "request": REF,
        "step": CODE,
        "status": CODE,
        "by": OPT_REF,
        "reason": OPT_CODE,
        "sha256": OPT_DIGEST,
        "rows": OPT_INT,
    },
    EventType.DSR_OVERDUE: {"request": REF, "right": CODE, "status": CODE, "due_at": TIME},
    EventType.LEGAL_HOLD_CHANGED: {
        "hold": REF,
        "action": CODE,  # set, lifted
        "scope": CODE,  # customer, tenant
        "customer": OPT_PERSONAL,
        "reason": CODE,
        "by": REF,
    },
    EventType.RETENTION_PURGED: {"run": REF, "data_class": CODE, "rows": INT, "held": INT, "dry_run": BOOL},
    EventType.COMPLAINT_MILESTONE: {"complaint": REF, "milestone": CODE, "due_at": OPT_TIME, "by": OPT_REF},
    EventType.INCIDENT_MILESTONE: {"incident": REF, "milestone": CODE, "severity": OPT_CODE, "due_at": OPT_TIME},
    EventType.NOTICE_CREATED: {"notice": REF, "by": REF, "kind": CODE, "sha256": DIGEST},
    EventType.CONVERSATION_ASSIGNED: {
        "handoff": REF,
        "action": CODE,
        "by": REF,
        "to": OPT_REF,
        "previous": OPT_REF,
        "team": OPT_REF,
    },
    EventType.KEY_SHREDDED: {
        "customer": PERSONAL,
        "keys": INT,
        "messages": INT,
        "envelopes": INT,
        "outbox": INT,
        "reason": CODE,
        "by": OPT_REF,
    },
    EventType.CONVERSATION_ACTION: {
        "staff": REF,
        "conversation": REF,
        "action": CODE,
        "customer": PERSONAL,
        "handoff": OPT_REF,
        "ref": OPT_REF,  # the outbox key, note, canned response or media id acted on
        "detail": OPT_CODE,  # e.g. the template name, the file kind, the refusing rule
    },
}

_CODE = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
MAX_REF = 200


class AuditEventError(ValueError):
    """An event that does not fit the catalogue; nothing was written."""


@functools.lru_cache(maxsize=4096)
def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise AuditEventError("naive datetime: audit times must be timezone-aware")
    # isoformat is several times faster than strftime; the shape is fixed: microseconds and 'Z'
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def check_ref(name: str, value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_REF or not value.isprintable():
        raise AuditEventError(f"{name}: expected an identifier (1..{MAX_REF} printable characters)")
    return value


def _ref(where: str, value: object, _pseudonym: Callable[[str], str]) -> object:
    return check_ref(where, value)


def _code(where: str, value: object, _pseudonym: Callable[[str], str]) -> object:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise AuditEventError(f"{where}: expected a code like 'customer_request'")
    return value


def _personal(where: str, value: object, pseudonym: Callable[[str], str]) -> object:
    if not isinstance(value, str):
        raise AuditEventError(f"{where}: expected the personal value as a string (it is hashed)")
    return pseudonym(value)


def _digest(where: str, value: object, _pseudonym: Callable[[str], str]) -> object:
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise AuditEventError(f"{where}: expected a SHA-256 in lowercase hex")
    return value


def _int(where: str, value: object, _pseudonym: Callable[[str], str]) -> object:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
        raise AuditEventError(f"{where}: expected a 64-bit integer")
    return value


def _bool(where: str, value: object, _pseudonym: Callable[[str], str]) -> object:
    if not isinstance(value, bool):
        raise AuditEventError(f"{where}: expected true or false")
    return value


def _time(where: str, value: object, _pseudonym: Callable[[str], str]) -> object:
    if not isinstance(value, datetime):
        raise AuditEventError(f"{where}: expected a timezone-aware datetime")
    return iso(value)


Check = Callable[[str, object, Callable[[str], str]], object]
_CHECKS: dict[Kind, Check] = {
    Kind.REF: _ref,
    Kind.CODE: _code,
    Kind.PERSONAL: _personal,
    Kind.DIGEST: _digest,
    Kind.INT: _int,
    Kind.BOOL: _bool,
    Kind.TIME: _time,
}
# per event: (name, required, check, "type.name") in catalogue order, resolved once
_PLAN: dict[EventType, tuple[tuple[str, bool, Check, str], ...]] = {
    event: tuple((name, f.required, _CHECKS[f.kind], f"{event.value}.{name}") for name, f in spec.items())
    for event, spec in CATALOGUE.items()
}


def normalise(event: EventType, fields: Mapping[str, object], pseudonym: Callable[[str], str]) -> dict[str, object]:
    """Check `fields` against the catalogue and return the leaf's field object."""
    plan = _PLAN[event]
    out: dict[str, object] = {}
    for name, required, check, where in plan:
        value = fields.get(name)
        if value is None:
            if required:
                raise AuditEventError(f"{event.value}: missing required field {name}")
            continue
        out[name] = check(where, value, pseudonym)
    if len(out) != len(fields):
        unknown = sorted(set(fields) - set(CATALOGUE[event]))
        if unknown:
            raise AuditEventError(f"{event.value}: undeclared field(s) {', '.join(unknown)}")
    return out
