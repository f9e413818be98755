"""The conversation engine: one customer turn in, the replies out.

Pure domain code: it sees the institution only through CorePort and never touches storage or
the network; the inbox handler persists its state and queues its replies.

Order of business for a turn: Loket's own events (a step-up decided); the secret warning; silence
while a person has the conversation; a pending step-up; then taps (menu rows, journey buttons,
actions) or free text: cancel and language first, the journey in progress, then the classifier's
decision (ACT, CLARIFY with one question, or the menu; never a guess on a sensitive action).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from loket.channel.outgoing import Text
from loket.conversation import access, replies
from loket.conversation.journey import Context, Given, Outcome, parse_action, parse_button
from loket.conversation.menu import MENU_PREFIX, menu_choice
from loket.conversation.reading import Reading, read
from loket.conversation.state import MAX_MISSES_BEFORE_HANDOFF, ActiveJourney, Dialogue
from loket.conversation.stepup import STEP_UP_EVENT, Resolution, StepUp, StepUpSettings
from loket.conversation.turn import NewSignal, OutgoingMessage, Turn, TurnResult
from loket.core.port import CoreError, CorePort
from loket.i18n.catalog import t
from loket.journeys import feedback, handoff
from loket.journeys.registry import BY_INTENT, JOURNEYS, TO_A_PERSON
from loket.journeys.scam_signals import executable_file
from loket.understanding import Decision, Intent

FLOW_REPLY = "flow_reply"
SILENT_KINDS = frozenset({"reaction", "system", "unsupported_silent", "unknown"})
TEXT_KINDS = frozenset({"text", "interactive_button_reply", "interactive_list_reply", "template_button"})
MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})
# Intents that only make sense as an answer: alone, they do not start anything new.
_NOT_A_REQUEST = frozenset(
    {Intent.AFFIRM, Intent.DENY, Intent.THANKS, Intent.GREETING, Intent.GOODBYE, Intent.OUT_OF_SCOPE}
)
_LEAVES_JOURNEY = frozenset({Intent.MENU, Intent.GREETING, Intent.THANKS, Intent.GOODBYE, Intent.MARKETING_OPT_OUT})
_PROTECTIVE = frozenset({"block_card", "scam_check"})
_EASY = {Intent.THANKS: "small_talk.thanks", Intent.GOODBYE: "small_talk.goodbye"}
_WITH_MENU = {
    Intent.OUT_OF_SCOPE: "fallback.out_of_scope",
    Intent.MARKETING_OPT_OUT: "small_talk.opt_out",
    Intent.AFFIRM: "small_talk.affirm",
    Intent.DENY: "small_talk.deny",
}


class ConversationEngine:
    def __init__(self, core: CorePort, step_up: StepUpSettings | None = None) -> None:
        self._core = core
        self._step_up = StepUp(core, step_up or StepUpSettings())

    async def handle(self, turn: Turn) -> TurnResult:
        result = TurnResult(state=dict(turn.state), language=turn.language)
        await _Run(self._core, self._step_up, turn, result).go()
        return result


class _Run:
    """One turn: the turn, the result being built, and the dialogue state inside it."""

    def __init__(self, core: CorePort, step_up: StepUp, turn: Turn, result: TurnResult) -> None:
        self.core, self.step_up, self.turn, self.result = core, step_up, turn, result
        self.state = Dialogue(result.state)
        self._reading: Reading | None = None

    @property
    def replies(self) -> list[OutgoingMessage]:
        return self.result.replies

    def reading(self) -> Reading | None:
        turn = self.turn
        if self._reading is None and turn.kind == "text" and turn.text and turn.text.strip():
            zone = turn.customer.timezone if turn.customer is not None else "Asia/Jakarta"
            self._reading = read(turn.text, turn.now, zone)
        return self._reading

    def set_language(self, language: str) -> None:
        self.turn = dataclasses.replace(self.turn, language=language)
        self.result.language = language

    async def go(self) -> None:
        turn = self.turn
        if turn.kind == STEP_UP_EVENT:
            await self.step_up_event()
            return
        if turn.kind in SILENT_KINDS:
            return
        if turn.kind == FLOW_REPLY:
            self.flow_completed()
            return
        if turn.redactions:
            self.replies.append(replies.secret_warning(turn, turn.redactions))
            self.result.signals.append(_signal("secret_shared", kinds=list(turn.redactions)))
            active = self.state.journey(turn.now)
            if not (turn.forwarded or (active is not None and active.name == "scam_check")):
                return  # a forwarded scam message often carries a code: it is still checked
        if self.state.handoff_id() is not None:
            if turn.handoff_open:
                return  # a person has the conversation: the bot stays quiet
            self.state.set_handoff(None)
        if self.state.step_up() is not None and not await self.pending_step_up():
            return
        await self.dispatch()

    # Loket's own events, flows, step-ups

    async def step_up_event(self) -> None:
        pending = self.state.step_up()
        if pending is not None and pending.request_id == self.turn.event_ref:
            await self.pending_step_up(quiet_while_pending=True)

    def flow_completed(self) -> None:
        turn = self.turn
        if turn.flow is not None and turn.flow.flow == feedback.FLOW:
            self.replies.extend(feedback.thanks(turn))
        else:  # unknown, expired or someone else's token: say so instead of guessing what the form was
            self.replies.extend(replies.with_menu(turn, "feedback.stale"))

    async def pending_step_up(self, *, quiet_while_pending: bool = False) -> bool:
        """Resolve the pending step-up; True when the turn's own message should still be handled."""
        try:
            checked = await self.step_up.check(self.turn, self.state)
        except CoreError:
            self.replies.append(Text(body=t(self.turn.language, "fallback.service_unavailable")))
            return False
        if checked is None:
            return True
        if checked.resolution is Resolution.PENDING:
            if quiet_while_pending or self.is_new_request():
                return not quiet_while_pending
            self.replies.extend(self.step_up.still_waiting(self.turn, checked.pending))
            return False
        if checked.resolution is Resolution.APPROVED:
            self.step_up.elevate(self.turn, self.state)
            await self.resume(checked.pending.resume)
        else:
            self.replies.extend(self.step_up.failed(self.turn, self.state, checked))
            if checked.resolution is Resolution.REJECTED:
                self.result.signals.append(_signal("step_up_rejected", journey=checked.pending.resume.get("journey")))
        return not quiet_while_pending and self.is_new_request()

    def is_new_request(self) -> bool:
        """Whether this message asks for something itself (not "ok", "sudah", a step-up button)."""
        turn = self.turn
        if turn.reply_id:
            parsed = parse_action(turn.reply_id)
            return parsed is None or parsed[0] not in ("step_up_check", "step_up_retry")
        reading = self.reading()
        return reading is not None and reading.decision is Decision.ACT and reading.intent not in _NOT_A_REQUEST

    async def resume(self, resume: dict[str, Any]) -> None:
        name = str(resume.get("journey", ""))
        text = resume.get("text") if isinstance(resume.get("text"), str) else None
        given = self.given(text=text, choice=resume.get("choice") if isinstance(resume.get("choice"), str) else None)
        if "step" in resume and name in JOURNEYS:
            active = ActiveJourney(
                name,
                str(resume["step"]),
                str(resume.get("instance", "")),
                dict(resume.get("data") or {}),
                self.turn.now,
            )
            await self.advance(active, given)
        else:
            await self.start(name, given)

    # Dispatch

    async def dispatch(self) -> None:
        turn = self.turn
        if turn.kind in MEDIA_KINDS or turn.kind in replies.KIND_NAMES:
            await self.media()
        elif turn.kind not in TEXT_KINDS:
            self.replies.extend(replies.unsupported(turn, voice=False))
        elif turn.reply_id:
            await self.tapped(turn.reply_id)
        else:
            await self.free_text()

    async def media(self) -> None:
        turn = self.turn
        active = self.state.journey(turn.now)
        given = self.given(text=turn.text)
        if active is not None and active.name == "scam_check" and turn.kind in MEDIA_KINDS:
            await self.advance(active, given)
        elif turn.forwarded or (turn.kind == "document" and _looks_executable(turn)):
            await self.start("scam_check", given)
        else:
            self.replies.extend(replies.unsupported(turn, voice=turn.media is not None and turn.media.voice))

    async def tapped(self, reply_id: str) -> None:
        turn = self.turn
        if reply_id.startswith(MENU_PREFIX):
            item = menu_choice(turn.tenant, reply_id, customer=turn.customer is not None)
            if item is None:
                self.replies.extend(replies.stale(turn))
            else:
                await self.start(item, self.given())
            return
        if (button := parse_button(reply_id)) is not None:
            name, instance, value = button
            active = self.state.journey(turn.now)
            if active is not None and (active.name, active.instance) == (name, instance):
                await self.advance(active, self.given(choice=value))
            else:
                self.replies.extend(replies.stale(turn))
            return
        parsed = parse_action(reply_id)
        if parsed is None:
            self.replies.extend(replies.stale(turn))
            return
        name, value = parsed
        if name == "intent" and value in Intent._value2member_map_:
            said = self.state.data.pop("clarify", None)
            await self.act(Intent(value), self.given(text=said if isinstance(said, str) and said else None))
        elif name == "human":
            self.hand_off(value or "asked")
        elif name == "step_up_retry" and (retry := self.state.retry()) is not None:
            await self.start(
                str(retry.get("journey", "")),
                self.given(text=retry.get("text") if isinstance(retry.get("text"), str) else None),
            )
        elif name in ("cancel", "menu"):
            self.cancel(quiet=name == "menu")
        elif name in ("step_up_check", "step_up_retry"):
            self.replies.extend(replies.with_menu(turn, "step_up.nothing_pending"))
        else:
            await self.start(name, self.given())

    async def free_text(self) -> None:
        turn, state, reading = self.turn, self.state, self.reading()
        if reading is None:
            self.replies.extend(
                replies.greeting(turn) if turn.first_contact else replies.with_menu(turn, "fallback.not_understood")
            )
            return
        if (
            reading.language
            and not state.language_chosen
            and turn.customer is None
            and reading.language != turn.language
        ):
            self.set_language(reading.language)  # no profile to go by: answer in the language they write
        intent, acting = reading.intent, reading.decision is Decision.ACT
        if acting and intent is Intent.CANCEL:
            self.cancel()
            return
        if acting and intent in (Intent.LANGUAGE_EN, Intent.LANGUAGE_ID):
            self.set_language("en" if intent is Intent.LANGUAGE_EN else "id")
            state.choose_language()
            self.replies.extend(replies.language_switched(self.turn))
            return
        active = state.journey(turn.now)
        if active is not None:
            # A step that asks the customer to tell in their own words takes whatever they write.
            captures = active.step in getattr(JOURNEYS.get(active.name), "free_text_steps", ())
            switching = (acting and not captures) and (
                BY_INTENT.get(intent) not in (None, active.name) or intent in TO_A_PERSON or intent in _LEAVES_JOURNEY
            )
            if not switching:
                await self.advance(active, self.given(text=turn.text, reading=reading))
                return
        if turn.forwarded:
            await self.start("scam_check", self.given(text=turn.text, reading=reading))
        elif reading.feedback and not reading.angry:
            await self.start("feedback", self.given())
        elif reading.foreign_script:
            self.replies.extend(replies.with_menu(turn, "fallback.other_language"))
        elif reading.angry and not (acting and BY_INTENT.get(intent) in _PROTECTIVE):
            self.hand_off("angry", wanted=[intent.value])
        elif acting:
            state.understood()
            await self.act(intent, self.given(text=turn.text, reading=reading))
        elif turn.first_contact and reading.decision is Decision.MENU:
            self.replies.extend(replies.greeting(turn))
        elif reading.decision is Decision.CLARIFY and (options := access.clarify_options(turn, reading)):
            state.data["clarify"] = (turn.text or "")[:300]  # the chosen meaning acts on what was said
            self.replies.extend(replies.clarify(turn, options))
        else:
            self.not_understood(reading)

    async def act(self, intent: Intent, given: Given) -> None:
        turn = self.turn
        if intent in BY_INTENT:
            await self.start(BY_INTENT[intent], dataclasses.replace(given, intent=intent))
        elif intent in TO_A_PERSON:
            self.hand_off(TO_A_PERSON[intent], wanted=[intent.value])
        elif intent is Intent.GREETING:
            self.replies.extend(replies.greeting(turn))
        elif intent in (Intent.MENU, Intent.CANCEL):
            self.cancel(quiet=intent is Intent.MENU)
        elif intent in _EASY:
            self.replies.append(Text(body=t(turn.language, _EASY[intent], institution=turn.tenant.display_name)))
        elif intent in (Intent.LANGUAGE_EN, Intent.LANGUAGE_ID):
            self.set_language("en" if intent is Intent.LANGUAGE_EN else "id")
            self.state.choose_language()
            self.replies.extend(replies.language_switched(self.turn))
        else:
            self.replies.extend(replies.with_menu(turn, _WITH_MENU.get(intent, "fallback.not_understood")))

    def not_understood(self, reading: Reading) -> None:
        if self.state.missed() >= MAX_MISSES_BEFORE_HANDOFF:
            self.state.understood()
            self.hand_off("not_understood", wanted=[i.value for i in reading.alternatives()[:2]])
        else:
            self.replies.extend(replies.with_menu(self.turn, "fallback.not_understood"))

    # Journeys

    def given(self, *, text: str | None = None, choice: str | None = None, reading: Reading | None = None) -> Given:
        return access.given(self.turn, text=text, choice=choice, reading=reading)

    def refused(self, name: str) -> bool:
        """Say why a journey cannot start here; True when it cannot."""
        refusal = access.refusal(self.turn, name)
        self.replies.extend(refusal)
        return bool(refusal)

    async def start(self, name: str, given: Given) -> None:
        turn = self.turn
        if self.refused(name):
            return
        if name == "feedback":
            # Open to everyone who writes, customer or not: anyone may tell the institution what they think.
            message, session = feedback.offer(turn)
            self.replies.append(message)
            self.result.flow_sessions.append(session)
            return
        journey = JOURNEYS[name]
        self.state.end_journey()
        if journey.step_up and not self.state.elevated(_customer_id(turn), turn.now):
            resume = {"journey": name, "text": (given.text or "")[:300] or None, "choice": given.choice}
            await self.ask_step_up(resume)
            return
        instance = Dialogue.new_instance()
        await self.run(journey.name, instance, journey.start(Context(self.core, turn, instance, name), given))

    async def advance(self, active: ActiveJourney, given: Given) -> None:
        turn = self.turn
        journey = JOURNEYS.get(active.name)
        if journey is None:
            self.state.end_journey()
            self.replies.extend(replies.stale(turn))
            return
        if journey.needs_customer and turn.customer is None:
            self.state.end_journey()
            self.refused(active.name)
            return
        if journey.step_up and not self.state.elevated(_customer_id(turn), turn.now):
            resume: dict[str, Any] = {"journey": active.name, "step": active.step, "instance": active.instance}
            resume.update(data=active.data, text=(given.text or "")[:300] or None, choice=given.choice)
            await self.ask_step_up(resume)
            return
        ctx = Context(self.core, turn, active.instance, active.name)
        await self.run(active.name, active.instance, journey.advance(ctx, active.step, active.data, given))

    async def ask_step_up(self, resume: dict[str, Any]) -> None:
        try:
            self.replies.extend(await self.step_up.ask(self.turn, self.state, resume))
        except CoreError:
            self.replies.append(Text(body=t(self.turn.language, "fallback.service_unavailable")))

    async def run(self, name: str, instance: str, outcome_of: Any) -> None:
        try:
            outcome: Outcome = await outcome_of
        except CoreError:
            self.state.end_journey()
            self.replies.append(Text(body=t(self.turn.language, "fallback.service_unavailable")))
            return
        self.replies.extend(outcome.replies)
        self.result.documents.extend(outcome.documents)
        self.result.signals.extend(outcome.signals)
        self.result.privacy.extend(outcome.privacy)
        self.result.complaints.extend(outcome.complaints)
        if outcome.step is None:
            self.state.end_journey()
        else:
            self.state.set_journey(name, outcome.step, instance, outcome.data, self.turn.now)
        if outcome.handoff is not None:
            self.result.handoff = outcome.handoff

    def cancel(self, *, quiet: bool = False) -> None:
        had = self.state.had_journey() or self.state.step_up() is not None
        self.state.end_journey()
        self.state.clear_step_up()
        self.state.set_retry(None)
        if quiet:
            self.replies.append(replies.menu(self.turn))
        else:
            self.replies.extend(replies.with_menu(self.turn, "cancel.done" if had else "cancel.nothing"))

    def hand_off(self, reason: str, wanted: list[str] | None = None) -> None:
        if self.state.handoff_id() is not None:
            self.replies.append(handoff.already_waiting(self.turn.language))
            return
        active = self.state.journey(self.turn.now)
        self.result.handoff = handoff.request(reason, wanted or [], active.name if active else None)
        self.state.end_journey()
        self.state.clear_step_up()


def _customer_id(turn: Turn) -> str | None:
    return turn.customer.customer_id if turn.customer is not None else None


def _looks_executable(turn: Turn) -> bool:
    return turn.media is not None and executable_file("", turn.media) is not None


def _signal(kind: str, **detail: Any) -> NewSignal:
    return NewSignal(kind, detail)
