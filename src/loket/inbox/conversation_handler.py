"""Adapter between the inbox and the conversation engine: loads context, persists the outcome.

For each inbound message: bind the wa_id to a customer through CorePort (by registered phone
number), run the engine, queue a read receipt and the replies in the same transaction, and
remember the state, the language and when the customer last wrote (the 24-hour window).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from loket.channel.inbound_message import parse_message
from loket.clock import Clock, system_clock
from loket.complaints.desk import ComplaintDesk
from loket.complaints.intake import ComplaintIntake
from loket.conversation.engine import FLOW_REPLY, ConversationEngine
from loket.conversation.stepup import STEP_UP_EVENT
from loket.conversation.turn import FlowCompletion, MediaView, NewSignal, OutgoingMessage, TenantView, Turn, TurnResult
from loket.core.port import CoreError, CorePort
from loket.db.models import Conversation, InboundMessage
from loket.dialogue.identity import bind
from loket.dialogue.persist import handoff_open, persist_turn
from loket.flows.store import completed_flow, open_flow_session
from loket.i18n.catalog import normalise_language
from loket.outbound.outbox import Purpose, enqueue, enqueue_read_receipt
from loket.security.secretbox import SecretBox
from loket.tenancy.directory import PhoneDirectory, TenantInfo

NO_READ_RECEIPT = frozenset({"reaction", "system", "unknown", STEP_UP_EVENT})
# Loket's own events in the inbox: not the customer writing, so they do not open the 24-hour window.
INTERNAL_KINDS = frozenset({STEP_UP_EVENT})
REDACTIONS_KEY = "loket_redactions"
_MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")


def _media_view(message: InboundMessage) -> MediaView | None:
    media = message.payload.get(message.kind) if message.kind in _MEDIA_KINDS else None
    if not isinstance(media, dict):
        return None
    filename, mime = media.get("filename"), media.get("mime_type")
    return MediaView(
        filename=filename if isinstance(filename, str) else None,
        mime_type=mime if isinstance(mime, str) else None,
        voice=media.get("voice") is True,
    )


def _forwarded(message: InboundMessage) -> bool:
    context = message.payload.get("context")
    if not isinstance(context, dict):
        return False
    return context.get("forwarded") is True or context.get("frequently_forwarded") is True


def _redactions(message: InboundMessage) -> tuple[str, ...]:
    kinds = message.payload.get(REDACTIONS_KEY)
    return tuple(str(kind) for kind in kinds) if isinstance(kinds, list) else ()


class TapRouter(Protocol):
    """Button taps another part of Loket answers (loket.events.taps: `cfm:` and `alr:` ids)."""

    def claims(self, reply_id: str | None) -> bool: ...

    async def handle(
        self,
        session: AsyncSession,
        *,
        tenant_id: str,
        wa_id: str,
        reply_id: str,
        reply_wamid: str,
        language: str,
        institution: str,
        call_centre: str,
    ) -> Sequence[OutgoingMessage]: ...


async def _flow_completion(
    session: AsyncSession, conversation: Conversation, message: InboundMessage
) -> FlowCompletion | None:
    """What Loket recorded for the Flow this `nfm_reply` closes, if the token is this customer's."""
    parsed = parse_message(message.payload, [], message.phone_number_id, None, None)
    flow = parsed.flow_response if not isinstance(parsed, str) else None
    if flow is None or not flow.flow_token:
        return None
    return await completed_flow(session, flow.flow_token, tenant_id=conversation.tenant_id, wa_id=conversation.wa_id)


def tenant_view(info: TenantInfo) -> TenantView:
    call_centres = info.official_channels.get("call_centre_numbers") or [""]
    return TenantView(
        tenant_id=info.tenant_id,
        display_name=info.display_name,
        kind=info.kind,
        call_centre=str(call_centres[0]),
        default_language=info.default_language,
        legal_name=info.legal_name,
        official=info.official_channels,
    )


class ConversationHandler:
    def __init__(
        self,
        *,
        dialect: str,
        directory: PhoneDirectory,
        core: CorePort,
        engine: ConversationEngine,
        clock: Clock = system_clock,
        taps: TapRouter | None = None,
        box: SecretBox | None = None,
        complaints: ComplaintIntake | None = None,
    ) -> None:
        self._dialect = dialect
        self._directory = directory
        self._core = core
        self._engine = engine
        self._clock = clock
        self._taps = taps
        self._box = box
        # Complaints from WhatsApp: the runtime passes its desk (calendar and office hours from settings);
        # without one, a desk with the default calendar, so a complaint is never dropped.
        if complaints is None and box is not None:
            complaints = ComplaintIntake(ComplaintDesk(dialect=dialect, box=box))
        self._complaints = complaints

    async def handle(self, session: AsyncSession, conversation: Conversation, message: InboundMessage) -> None:
        now = self._clock.now()
        # The snapshot first: a refresh here would query inside the processor's transaction (SQLite has one
        # connection); the ingest and the dispatcher keep the snapshot fresh.
        info = self._directory.cached_tenant(conversation.tenant_id) or await self._directory.tenant(
            conversation.tenant_id
        )
        if info is None:
            raise LookupError(f"tenant {conversation.tenant_id} vanished")
        tenant = tenant_view(info)
        identity_signals: list[NewSignal] = []
        try:
            customer, identity_signals = await bind(self._core, conversation, message)
        except CoreError:
            customer = None  # public services only while the core is unreachable
        state_before = dict(conversation.state or {})
        handoff_id = state_before.get("handoff")
        language = normalise_language(
            conversation.language or (customer.language if customer else None) or tenant.default_language
        )
        first_contact = conversation.last_inbound_at is None
        turn = Turn(
            tenant=tenant,
            customer=customer,
            language=language,
            kind=message.kind,
            text=message.text,
            reply_id=message.reply_id,
            now=now,
            state=dict(conversation.state or {}),
            first_contact=first_contact,
            flow=await _flow_completion(session, conversation, message) if message.kind == FLOW_REPLY else None,
            redactions=_redactions(message),
            forwarded=_forwarded(message),
            media=_media_view(message),
            event_ref=message.reply_id if message.kind in INTERNAL_KINDS else None,
            handoff_open=await handoff_open(session, handoff_id if isinstance(handoff_id, int) else None),
        )
        if self._taps is not None and self._taps.claims(message.reply_id):
            # Confirmation answers and "Bukan saya" under alerts belong to the outbound engine.
            result = TurnResult(state=turn.state, language=language)
            result.replies = list(
                await self._taps.handle(
                    session,
                    tenant_id=conversation.tenant_id,
                    wa_id=conversation.wa_id,
                    reply_id=str(message.reply_id),
                    reply_wamid=message.wamid,
                    language=language,
                    institution=tenant.display_name,
                    call_centre=tenant.call_centre,
                )
            )
        else:
            result = await self._engine.handle(turn)
        common: dict[str, Any] = {
            "dialect": self._dialect,
            "tenant_id": conversation.tenant_id,
            "phone_number_id": message.phone_number_id,
            "to_wa_id": conversation.wa_id,
            "now": now,
        }
        result.signals[:0] = identity_signals
        result.replies.extend(
            await persist_turn(
                session,
                dialect=self._dialect,
                box=self._box,
                tenant_id=conversation.tenant_id,
                phone_number_id=message.phone_number_id,
                wa_id=conversation.wa_id,
                customer_id=customer.customer_id if customer else None,
                wamid=message.wamid,
                before=state_before,
                result=result,
                language=result.language or language,
                institution=tenant.display_name,
                call_centre=tenant.call_centre,
                now=now,
            )
        )
        if result.complaints and self._complaints is not None:
            # Complaints (loket.complaints): registered in this transaction, answered with the reference.
            result.replies.extend(
                await self._complaints.apply(
                    session,
                    result.complaints,
                    tenant_id=conversation.tenant_id,
                    phone_number_id=message.phone_number_id,
                    wa_id=conversation.wa_id,
                    customer_id=customer.customer_id if customer else None,
                    language=result.language or language,
                    zone=customer.timezone if customer else "Asia/Jakarta",
                    wamid=message.wamid,
                    now=now,
                )
            )
        if message.kind not in NO_READ_RECEIPT:
            await enqueue_read_receipt(session, message_id=message.wamid, typing=bool(result.replies), **common)
        for new_flow in result.flow_sessions:
            await open_flow_session(
                session,
                new_flow,
                tenant_id=conversation.tenant_id,
                wa_id=conversation.wa_id,
                customer_id=customer.customer_id if customer else None,
                language=result.language or language,
                now=now,
            )
        for index, reply in enumerate(result.replies):
            await enqueue(
                session,
                payload=dict(reply.to_payload()),
                purpose=Purpose.SERVICE,
                idempotency_key=f"reply:{message.wamid}:{index}",
                **common,
            )
        conversation.state = result.state
        conversation.language = result.language or language
        if message.kind not in INTERNAL_KINDS:
            conversation.last_inbound_at = max(filter(None, (conversation.last_inbound_at, message.received_at)))
        conversation.updated_at = now
