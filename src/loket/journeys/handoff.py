"""Handing a conversation to a person: the summary the agent reads, and what the customer is told.

The summary says what the customer wanted in Loket's words (intents, the journey they were in, the
reason), never their raw messages: the agent reads those in the conversation, already redacted.
"""

from __future__ import annotations

from collections.abc import Sequence

from loket.channel.outgoing import Text
from loket.conversation.turn import HandoffRequest
from loket.i18n.catalog import t

MINUTES_PER_WAITING = 3  # a rough average handling time per customer ahead in the queue
MIN_WAIT_MINUTES = 2


def request(reason: str, wanted: Sequence[str], journey: str | None = None, extra: str | None = None) -> HandoffRequest:
    """A summary like "reason=not_understood; wanted: balance, block_card; journey: mutations"."""
    parts = [f"reason: {reason}"]
    if wanted:
        parts.append("wanted: " + ", ".join(dict.fromkeys(wanted)))
    if journey:
        parts.append(f"journey: {journey}")
    if extra:
        parts.append(extra)
    return HandoffRequest(reason=reason, summary="; ".join(parts)[:500])


def expected_wait_minutes(waiting_ahead: int) -> int:
    return max(MIN_WAIT_MINUTES, (waiting_ahead + 1) * MINUTES_PER_WAITING)


def queued(language: str, institution: str, reason: str, waiting_ahead: int, call_centre: str) -> Text:
    why = t(language, f"handoff.why.{reason}") if reason in _REASONS else t(language, "handoff.why.asked")
    body = t(
        language,
        "handoff.queued",
        why=why,
        institution=institution,
        minutes=expected_wait_minutes(waiting_ahead),
        call_centre=call_centre,
    )
    return Text(body=body)


def already_waiting(language: str) -> Text:
    return Text(body=t(language, "handoff.already"))


_REASONS = frozenset(
    {"asked", "not_understood", "angry", "complaint", "complaint_status", "data_request", "compromised"}
)
