"""What the dispatcher does after a failed send: a pure function of the error and the row.

- 5xx, transient codes, timeouts before the request left: retry with jittered exponential back-off
  until the row's deadline, then dead-letter with the last reason.
- 130429 (the number's throughput): hold the whole number, shared through the limiter, and
  reschedule; 131056 (the pair rate): reschedule this recipient only. Waiting is not an attempt.
- 131047 (the window closed): send the purpose's approved template instead, when the row has one.
- 131026: undeliverable (not on WhatsApp, old client); the institution is told.
- 131049 (marketing per-user cap) and 131050 (opted out of marketing): never retried; 131050 is
  recorded as a marketing opt-out.
- A timeout after the request left: the outcome is unknown, reconciled from status webhooks.
- Errors an operator has to fix (token, account, template set-up): dead-lettered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from loket.channel.errors import Action, ChannelError, GraphError, WaitScope, classify

UNDELIVERABLE = 131026
MARKETING_CAP = 131049
MARKETING_OPT_OUT = 131050
MAX_BACKOFF = 300.0
BASE_BACKOFF = 0.5
MAX_ATTEMPTS = 25  # a backstop under the deadline


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # queued, unknown, failed, dead, undeliverable
    reason: str
    code: int | None = None
    delay: float | None = None  # requeue after this many seconds (state queued)
    count_attempt: bool = True
    hold_sender: float | None = None  # seconds without any send from this number, every worker
    hold_pair: float | None = None
    use_template: bool = False  # requeue at once with the row's fallback template
    opt_out: bool = False  # record a marketing opt-out for the recipient
    notify: str | None = None  # a callback kind for the institution


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential from 0.5 s, capped at 5 minutes, with +-50 % jitter (no thundering herd)."""
    draw: float = (rng or random).random()
    return min(MAX_BACKOFF, BASE_BACKOFF * (2.0**attempts)) * (0.5 + draw)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def outcome_for(
    exc: BaseException,
    *,
    attempts: int,
    now: datetime,
    deadline: datetime,
    has_fallback: bool,
    rng: random.Random | None = None,
) -> Outcome:
    """`attempts` counts this one already."""
    action = classify(exc)
    code = exc.code if isinstance(exc, GraphError) else None
    reason = _describe(exc)
    if action is Action.RECONCILE:
        return Outcome("unknown", "outcome unknown: " + reason, code)
    if action is Action.USE_TEMPLATE:
        if has_fallback:
            return Outcome("queued", reason, code, delay=0.0, count_attempt=False, use_template=True)
        return Outcome("failed", "window closed and no approved template for this message: " + reason, code)
    if action is Action.WAIT:
        scope = exc.scope if isinstance(exc, GraphError) else None
        retry_after = exc.retry_after if isinstance(exc, GraphError) else None
        delay = max(float(retry_after or 1.0), 0.05)
        if now + timedelta(seconds=delay) > deadline:
            return Outcome("dead", "retry deadline passed while rate limited: " + reason, code)
        if scope is WaitScope.RECIPIENT:
            return Outcome("queued", reason, code, delay=delay, count_attempt=False, hold_pair=delay)
        return Outcome("queued", reason, code, delay=delay, count_attempt=False, hold_sender=delay)
    if action is Action.RETRY:
        delay = backoff(attempts, rng)
        if attempts >= MAX_ATTEMPTS or now + timedelta(seconds=delay) > deadline:
            return Outcome("dead", f"retry deadline passed after {attempts} attempts: {reason}", code)
        return Outcome("queued", reason, code, delay=delay)
    if code == UNDELIVERABLE:
        return Outcome("undeliverable", reason, code, notify="message.undeliverable")
    if code == MARKETING_OPT_OUT:
        return Outcome("failed", reason, code, opt_out=True, notify="message.failed")
    if code == MARKETING_CAP:
        return Outcome("failed", reason, code, notify="message.failed")
    operator = isinstance(exc, ChannelError) and getattr(exc, "needs_operator", False)
    if operator:
        return Outcome("dead", "needs an operator: " + reason, code, notify="message.failed")
    return Outcome("failed", reason, code, notify="message.failed")
