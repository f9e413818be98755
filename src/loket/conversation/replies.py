"""The engine's own messages: greeting, menu fallbacks, stale buttons, unsupported messages, the
secret warning, language switches, clarifying questions."""

from __future__ import annotations

from collections.abc import Sequence

from loket.channel.outgoing import ReplyButton, ReplyButtons, Text
from loket.conversation.journey import action
from loket.conversation.menu import main_menu
from loket.conversation.turn import OutgoingMessage, Turn
from loket.i18n.catalog import t
from loket.understanding import Intent

KIND_NAMES = frozenset({"image", "video", "audio", "document", "sticker", "location", "contacts", "order"})


def menu(turn: Turn) -> OutgoingMessage:
    return main_menu(turn.tenant, turn.language, customer=turn.customer is not None)


def with_menu(turn: Turn, key: str, **params: object) -> list[OutgoingMessage]:
    return [Text(body=t(turn.language, key, **params)), menu(turn)]


def greeting(turn: Turn) -> list[OutgoingMessage]:
    language, institution = turn.language, turn.tenant.display_name
    if turn.customer is not None:
        first = turn.customer.full_name.split()[0] if turn.customer.full_name.split() else turn.customer.full_name
        hello = t(language, "greeting.named", name=first, institution=institution)
    else:
        hello = t(language, "greeting.anonymous", institution=institution)
    parts = [hello, t(language, "greeting.security", institution=institution)]
    if turn.customer is None:
        parts.append(t(language, "greeting.public_only", institution=institution))
    parts.append(t(language, "greeting.choose"))
    return [Text(body="\n\n".join(parts)), menu(turn)]


def unsupported(turn: Turn, voice: bool) -> list[OutgoingMessage]:
    if voice or turn.kind == "audio":
        return with_menu(turn, "fallback.voice")
    what = t(turn.language, f"kinds.{turn.kind}") if turn.kind in KIND_NAMES else t(turn.language, "kinds.unknown")
    return with_menu(turn, "fallback.unsupported", what=what)


def secret_warning(turn: Turn, kinds: Sequence[str]) -> OutgoingMessage:
    language = turn.language
    names = [t(language, f"secrets.kinds.{kind}") for kind in kinds]
    body = t(
        language,
        "secrets.warning",
        what=", ".join(names),
        institution=turn.tenant.display_name,
        call_centre=turn.tenant.call_centre,
    )
    buttons = [ReplyButton(id=action("human", "compromised"), title=t(language, "scam.button_human"))]
    if turn.tenant.kind == "bank" and turn.customer is not None:
        buttons.insert(0, ReplyButton(id=action("block_card"), title=t(language, "scam.button_block")))
    return ReplyButtons(body=body, buttons=tuple(buttons))


def clarify(turn: Turn, intents: Sequence[Intent]) -> list[OutgoingMessage]:
    language = turn.language
    buttons = tuple(
        ReplyButton(id=action("intent", intent.value), title=t(language, f"intents.{intent.value}"))
        for intent in intents[:3]
    )
    return [ReplyButtons(body=t(language, "clarify.body"), buttons=buttons)]


def language_switched(turn: Turn) -> list[OutgoingMessage]:
    return with_menu(turn, "language.switched")


def stale(turn: Turn) -> list[OutgoingMessage]:
    return with_menu(turn, "fallback.stale_choice")
