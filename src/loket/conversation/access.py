"""What this customer may do here: journeys by institution kind and by whether the number belongs to
a customer, the clarifying options worth offering, and what a journey is given."""

from __future__ import annotations

from loket.channel.outgoing import Text
from loket.conversation import replies
from loket.conversation.journey import Given
from loket.conversation.reading import Reading, read
from loket.conversation.turn import OutgoingMessage, Turn
from loket.i18n.catalog import t
from loket.journeys.registry import BY_INTENT, JOURNEYS, TO_A_PERSON
from loket.understanding import Intent

OPEN_TO_ALL = frozenset({"feedback"})


def available(turn: Turn, name: str) -> bool:
    journey = JOURNEYS.get(name)
    if journey is None:
        return name.startswith("person:") or name in OPEN_TO_ALL
    kind_ok = journey.kinds is None or turn.tenant.kind in journey.kinds
    return kind_ok and (not journey.needs_customer or turn.customer is not None)


def refusal(turn: Turn, name: str) -> list[OutgoingMessage]:
    """Why a journey cannot start here (empty when it can): not offered by this kind of institution,
    or for registered numbers only."""
    if name in OPEN_TO_ALL:
        return []
    journey = JOURNEYS.get(name)
    if journey is None or (journey.kinds is not None and turn.tenant.kind not in journey.kinds):
        return replies.with_menu(turn, "fallback.not_available", institution=turn.tenant.display_name)
    if journey.needs_customer and turn.customer is None:
        institution, call_centre = turn.tenant.display_name, turn.tenant.call_centre
        body = t(turn.language, "not_customer.text", institution=institution, call_centre=call_centre)
        return [Text(body=body), replies.menu(turn)]
    return []


def clarify_options(turn: Turn, reading: Reading) -> list[Intent]:
    """Up to three things the customer may have meant that this customer can actually do here."""
    options: list[Intent] = []
    seen: set[str] = set()
    for intent in reading.alternatives():
        target = BY_INTENT.get(intent) or (f"person:{intent.value}" if intent in TO_A_PERSON else None)
        if target is None or target in seen or not available(turn, target):
            continue
        seen.add(target)
        options.append(intent)
    return options[:3]


def given(turn: Turn, *, text: str | None = None, choice: str | None = None, reading: Reading | None = None) -> Given:
    if reading is None and text:
        zone = turn.customer.timezone if turn.customer is not None else "Asia/Jakarta"
        reading = read(text, turn.now, zone)
    return Given(
        text=text,
        choice=choice,
        kind=turn.kind,
        entities=reading.entities if reading is not None else None,
        intent=reading.intent if reading is not None else None,
        media=turn.media,
        forwarded=turn.forwarded,
    )
