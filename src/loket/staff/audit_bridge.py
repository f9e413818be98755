"""Carries staff identity events into the verifiable audit log (`loket.audit`), in the caller's transaction.

Events with no tenant (platform operators, failed sign-ins of unknown names) go to the log of the
pseudo-tenant `_platform`. An action without a mapping raises: a new staff event cannot be dropped
silently.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit import AuditEvent as LogEvent
from loket.audit import AuditLog, EventType, installed
from loket.staff.audit import AuditEvent

PLATFORM_TENANT = "_platform"
_FAILURE_REASONS = {"password": "bad_password", "totp": "bad_totp", "password_change": "bad_current_password"}

Fields = dict[str, object]


def _staff(user_id: str | None) -> str | None:
    return f"staff:{user_id}" if user_id else None


def _key(purpose: str, action: str, key: str, by: str) -> tuple[EventType, Fields]:
    return EventType.KEY_CHANGED, {"purpose": purpose, "action": action, "key": key, "by": by}


def translate(event: AuditEvent) -> list[tuple[EventType, Fields]]:
    """The audit log entries one staff event becomes (none for intermediate steps)."""
    d: Mapping[str, object] = event.details
    actor = _staff(event.actor_id)
    target = _staff(event.target_id) if event.target_type == "staff_user" else None
    by = actor or "cli"
    match event.action:
        case "staff.login" if event.outcome == "ok":
            fields: Fields = {"staff": actor, "method": d["method"], "session": event.target_id}
            return [(EventType.STAFF_LOGIN, fields)]
        case "staff.login":
            reason = _FAILURE_REASONS[str(d["step"])]
            return [(EventType.STAFF_LOGIN_FAILED, {"staff": target or actor, "reason": reason})]
        case "staff.login.password":
            return []  # the password step alone is not a login; the TOTP step records it
        case "staff.totp.enrolled":
            return [(EventType.TOTP_ENROLLED, {"staff": target})]
        case "staff.tenant.switched":
            fields = {"staff": actor, "method": "tenant_switch", "session": event.target_id}
            return [(EventType.STAFF_LOGIN, fields)]
        case "staff.logout":
            return [(EventType.STAFF_LOGOUT, {"staff": actor, "session": event.target_id, "reason": "logout"})]
        case "staff.sessions.revoked":
            return [(EventType.STAFF_LOGOUT, {"staff": actor, "reason": "revoke_all"})]
        case "staff.user.created":
            return [(EventType.PERMISSION_GRANTED, {"staff": target, "permission": f"role:{d['role']}", "by": by})]
        case "staff.role.changed":
            out: list[tuple[EventType, Fields]] = []
            if d.get("before"):
                out.append(
                    (EventType.PERMISSION_REVOKED, {"staff": target, "permission": f"role:{d['before']}", "by": by})
                )
            if d.get("after"):
                out.append(
                    (EventType.PERMISSION_GRANTED, {"staff": target, "permission": f"role:{d['after']}", "by": by})
                )
            return out
        case "staff.password.reset":
            out = [_key("staff_password", "reset", str(target), by)]
            if d.get("totp_reset"):
                out.append(_key("staff_totp", "reset", str(target), by))
            return out
        case "staff.password.changed":
            return [_key("staff_password", "changed", str(target), by)]
        case "apikey.created" | "apikey.rotated" | "apikey.revoked":
            return [_key("api_key", event.action.removeprefix("apikey."), f"apikey:{event.target_id}", by)]
    raise ValueError(f"no audit log mapping for the staff event {event.action!r}")


class LoketAudit:
    """An AuditSink writing to `log`, or to the process-wide log installed with `loket.audit.install`."""

    def __init__(self, log: AuditLog | None = None) -> None:
        self._log = log

    async def record(self, event: AuditEvent, *, session: AsyncSession | None = None) -> None:
        entries = translate(event)
        if not entries:
            return
        log = self._log or installed()
        tenant = event.tenant_id or PLATFORM_TENANT
        batch = [LogEvent(kind, tenant, fields, actor=_staff(event.actor_id), at=event.at) for kind, fields in entries]
        await log.record_many(batch, session=session)
