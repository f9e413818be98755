"""The conversation engine: one customer turn in, the replies out.

Pure domain code: it sees the institution only through CorePort and never touches storage or
the network; the inbox handler persists its state and queues its replies.
"""

from __future__ import annotations

from loket.channel.outgoing import Text
from loket.conversation import keywords
from loket.conversation.keywords import Intent
from loket.conversation.menu import MENU_PREFIX, main_menu, menu_choice
from loket.conversation.turn import OutgoingMessage, Turn, TurnResult
from loket.core.port import CoreError, CorePort
from loket.i18n.catalog import t
from loket.journeys.balance import balance
from loket.journeys.policies import policies

SILENT_KINDS = frozenset({"reaction", "system", "unsupported_silent"})
TEXT_KINDS = frozenset({"text", "interactive_button_reply", "interactive_list_reply", "template_button"})
PROTECTED = {"balance": "bank", "policies": "insurer"}


class ConversationEngine:
    def __init__(self, core: CorePort) -> None:
        self._core = core

    async def handle(self, turn: Turn) -> TurnResult:
        result = TurnResult(state=dict(turn.state), language=turn.language)
        if turn.kind in SILENT_KINDS:
            return result
        if turn.kind not in TEXT_KINDS:
            what = (
                t(turn.language, f"kinds.{turn.kind}")
                if turn.kind in _KIND_NAMES
                else t(turn.language, "kinds.unknown")
            )
            result.replies = [
                Text(body=t(turn.language, "fallback.unsupported", what=what)),
                main_menu(turn.tenant, turn.language),
            ]
            return result
        if turn.reply_id is not None and turn.reply_id.startswith(MENU_PREFIX):
            item = menu_choice(turn.tenant, turn.reply_id)
            if item is None:
                result.replies = [
                    Text(body=t(turn.language, "fallback.stale_choice")),
                    main_menu(turn.tenant, turn.language),
                ]
                return result
            result.replies = await self._item(item, turn)
            return result
        intent = keywords.detect(turn.text)
        result.replies = await self._intent(intent, turn)
        return result

    async def _intent(self, intent: Intent, turn: Turn) -> list[OutgoingMessage]:
        if intent is Intent.BALANCE:
            return await self._item("balance", turn)
        if intent is Intent.POLICIES and turn.tenant.kind == "insurer":
            return await self._item("policies", turn)
        if intent is Intent.HELP:
            return await self._item("help", turn)
        if intent is Intent.MENU:
            return [main_menu(turn.tenant, turn.language)]
        if intent is Intent.GREETING or turn.first_contact:
            return self._greeting(turn)
        return [Text(body=t(turn.language, "fallback.not_understood")), main_menu(turn.tenant, turn.language)]

    def _greeting(self, turn: Turn) -> list[OutgoingMessage]:
        language = turn.language
        institution = turn.tenant.display_name
        if turn.customer is not None:
            hello = t(language, "greeting.named", name=_first_name(turn.customer.full_name), institution=institution)
        else:
            hello = t(language, "greeting.anonymous", institution=institution)
        body = "\n\n".join(
            (hello, t(language, "greeting.security", institution=institution), t(language, "greeting.choose"))
        )
        return [Text(body=body), main_menu(turn.tenant, language)]

    async def _item(self, item: str, turn: Turn) -> list[OutgoingMessage]:
        language = turn.language
        if item == "help":
            return [Text(body=t(language, "help.text"))]
        required_kind = PROTECTED.get(item)
        if required_kind is not None and turn.tenant.kind != required_kind:
            return [Text(body=t(language, "fallback.not_understood")), main_menu(turn.tenant, language)]
        if turn.customer is None:
            return [
                Text(
                    body=t(
                        language,
                        "not_customer.text",
                        institution=turn.tenant.display_name,
                        call_centre=turn.tenant.call_centre,
                    )
                )
            ]
        try:
            if item == "balance":
                return list(await balance(self._core, turn))
            if item == "policies":
                return list(await policies(self._core, turn))
        except CoreError:
            return [Text(body=t(language, "fallback.service_unavailable"))]
        return [main_menu(turn.tenant, language)]


_KIND_NAMES = frozenset({"image", "video", "audio", "document", "sticker", "location", "contacts", "order"})


def _first_name(full_name: str) -> str:
    return full_name.split()[0] if full_name.split() else full_name
