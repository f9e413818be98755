"""Dialogue state of one customer at one institution: a small JSON document the inbox stores on the
conversation row, read and written here through typed accessors.

    journey    the journey in progress: name, step, an instance id (buttons carry it), data, when last moved
    step_up    the pending step-up request: id, expiry, the customer it is for, what to resume
    elevated   until when the customer's step-up holds, and for which customer
    retry      the last action a step-up failed for, so "Coba lagi" can ask again
    handoff    the open human handoff (its id), while the bot keeps quiet
    misses     messages in a row the bot did not understand
    lang_set   the customer chose the language explicitly
    unbound    the customer id this WhatsApp number must never be bound to again (it changed number)

Nothing secret goes in here: no message text beyond what a pending action needs to resume (already
redacted by the secret shield), no account numbers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

JOURNEY_TIMEOUT = timedelta(minutes=15)
MAX_MISSES_BEFORE_HANDOFF = 3


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class ActiveJourney:
    name: str
    step: str
    instance: str
    data: dict[str, Any]
    moved_at: datetime


@dataclass(frozen=True, slots=True)
class PendingStepUp:
    request_id: str
    expires_at: datetime
    customer_id: str
    resume: dict[str, Any]


class Dialogue:
    """Typed access to the state document; every write goes to the dict the engine returns."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    # journey

    def journey(self, now: datetime) -> ActiveJourney | None:
        """The journey in progress, or None when there is none or it has timed out."""
        raw = self.data.get("journey")
        if not isinstance(raw, dict):
            return None
        moved = _time(raw.get("at"))
        if moved is None or now - moved > JOURNEY_TIMEOUT:
            return None
        data = raw.get("data")
        return ActiveJourney(
            name=str(raw.get("name", "")),
            step=str(raw.get("step", "")),
            instance=str(raw.get("id", "")),
            data=dict(data) if isinstance(data, dict) else {},
            moved_at=moved,
        )

    def had_journey(self) -> bool:
        return isinstance(self.data.get("journey"), dict)

    def set_journey(self, name: str, step: str, instance: str, data: dict[str, Any], now: datetime) -> None:
        self.data["journey"] = {"name": name, "step": step, "id": instance, "data": data, "at": now.isoformat()}

    def end_journey(self) -> None:
        self.data.pop("journey", None)

    @staticmethod
    def new_instance() -> str:
        return secrets.token_hex(3)

    # step-up

    def step_up(self) -> PendingStepUp | None:
        raw = self.data.get("step_up")
        if not isinstance(raw, dict):
            return None
        expires = _time(raw.get("expires_at"))
        resume = raw.get("resume")
        if expires is None or not isinstance(resume, dict):
            return None
        return PendingStepUp(str(raw.get("request_id")), expires, str(raw.get("customer_id")), dict(resume))

    def set_step_up(self, request_id: str, expires_at: datetime, customer_id: str, resume: dict[str, Any]) -> None:
        self.data["step_up"] = {
            "request_id": request_id,
            "expires_at": expires_at.isoformat(),
            "customer_id": customer_id,
            "resume": resume,
        }

    def clear_step_up(self) -> None:
        self.data.pop("step_up", None)

    def elevated(self, customer_id: str | None, now: datetime) -> bool:
        raw = self.data.get("elevated")
        if customer_id is None or not isinstance(raw, dict) or raw.get("customer_id") != customer_id:
            return False
        until = _time(raw.get("until"))
        return until is not None and now < until

    def elevate(self, customer_id: str, until: datetime) -> None:
        self.data["elevated"] = {"customer_id": customer_id, "until": until.isoformat()}

    def retry(self) -> dict[str, Any] | None:
        raw = self.data.get("retry")
        return dict(raw) if isinstance(raw, dict) else None

    def set_retry(self, resume: dict[str, Any] | None) -> None:
        if resume is None:
            self.data.pop("retry", None)
        else:
            self.data["retry"] = resume

    # handoff, misses, language, identity

    def handoff_id(self) -> int | None:
        raw = self.data.get("handoff")
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else None

    def set_handoff(self, handoff_id: int | None) -> None:
        if handoff_id is None:
            self.data.pop("handoff", None)
        else:
            self.data["handoff"] = handoff_id

    @property
    def misses(self) -> int:
        raw = self.data.get("misses")
        return raw if isinstance(raw, int) else 0

    def missed(self) -> int:
        self.data["misses"] = self.misses + 1
        return self.misses

    def understood(self) -> None:
        self.data.pop("misses", None)

    @property
    def language_chosen(self) -> bool:
        return self.data.get("lang_set") is True

    def choose_language(self) -> None:
        self.data["lang_set"] = True

    def unbound_customer(self) -> str | None:
        raw = self.data.get("unbound")
        return raw if isinstance(raw, str) else None


def forget_access(state: dict[str, Any]) -> dict[str, Any]:
    """The state once the customer behind a number is no longer who it was: no elevation, no pending
    step-up, no journey; only the language stays (it is the person writing, not an entitlement)."""
    kept: dict[str, Any] = {key: state[key] for key in ("lang_set", "unbound", "handoff") if key in state}
    return kept
