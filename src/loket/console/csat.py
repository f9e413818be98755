"""Customer satisfaction (CSAT) after an agent closes a conversation.

Closing asks the question while the 24-hour window is still open (a free-form interactive list cannot
go out after it): one list message with five rows whose ids are `csat:<handoff id>:<score>`. The tap
comes back through the inbox like any button; `CsatTaps` claims it before the conversation engine,
records the score once (only from the customer it was asked of) and thanks the customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.channel.outgoing import ListMessage, ListRow, ListSection, Text
from loket.clock import Clock, system_clock
from loket.console.conversation_tables import CsatAnswer
from loket.conversation.turn import OutgoingMessage
from loket.i18n.catalog import t
from loket.inbox.conversation_handler import TapRouter

CSAT_PREFIX = "csat:"
SCORES = (5, 4, 3, 2, 1)


def csat_question(language: str, handoff_id: int) -> ListMessage:
    rows = tuple(
        ListRow(id=f"{CSAT_PREFIX}{handoff_id}:{score}", title=t(language, f"csat.score_{score}")) for score in SCORES
    )
    return ListMessage(
        body=t(language, "csat.question"),
        button=t(language, "csat.button"),
        sections=(ListSection(title=None, rows=rows),),
    )


def parse_tap(reply_id: str) -> tuple[int, int] | None:
    parts = reply_id.split(":")
    if len(parts) != 3 or parts[0] + ":" != CSAT_PREFIX or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    score = int(parts[2])
    return (int(parts[1]), score) if 1 <= score <= 5 else None


async def record_asked(
    session: AsyncSession,
    *,
    tenant_id: str,
    handoff_id: int,
    conversation_id: int,
    wa_id: str,
    agent_id: str | None,
    asked_by: str,
    now: datetime,
) -> None:
    session.add(
        CsatAnswer(
            tenant_id=tenant_id,
            handoff_id=handoff_id,
            conversation_id=conversation_id,
            wa_id=wa_id,
            agent_id=agent_id,
            asked_by=asked_by,
            asked_at=now,
        )
    )


async def record_answer(
    session: AsyncSession, *, tenant_id: str, wa_id: str, reply_id: str, reply_wamid: str, now: datetime
) -> str:
    """Store the score; returns "recorded", "already" (answered before) or "unknown" (not this customer's)."""
    parsed = parse_tap(reply_id)
    if parsed is None:
        return "unknown"
    handoff_id, score = parsed
    done = await session.execute(
        update(CsatAnswer)
        .where(
            CsatAnswer.tenant_id == tenant_id,
            CsatAnswer.handoff_id == handoff_id,
            CsatAnswer.wa_id == wa_id,
            CsatAnswer.score.is_(None),
        )
        .values(score=score, answered_at=now, answer_wamid=reply_wamid)
    )
    if done.rowcount:  # type: ignore[attr-defined]
        return "recorded"
    exists = (
        await session.execute(
            select(CsatAnswer.id).where(
                CsatAnswer.tenant_id == tenant_id, CsatAnswer.handoff_id == handoff_id, CsatAnswer.wa_id == wa_id
            )
        )
    ).scalar_one_or_none()
    return "already" if exists is not None else "unknown"


class CsatTaps:
    """A TapRouter: CSAT answers here, every other tap to `inner` (the outbound engine's taps)."""

    def __init__(self, inner: TapRouter | None, *, clock: Clock = system_clock) -> None:
        self._inner = inner
        self._clock = clock

    def claims(self, reply_id: str | None) -> bool:
        if reply_id and reply_id.startswith(CSAT_PREFIX):
            return True
        return self._inner is not None and self._inner.claims(reply_id)

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
    ) -> Sequence[OutgoingMessage]:
        if not reply_id.startswith(CSAT_PREFIX):
            assert self._inner is not None
            return await self._inner.handle(
                session,
                tenant_id=tenant_id,
                wa_id=wa_id,
                reply_id=reply_id,
                reply_wamid=reply_wamid,
                language=language,
                institution=institution,
                call_centre=call_centre,
            )
        outcome = await record_answer(
            session, tenant_id=tenant_id, wa_id=wa_id, reply_id=reply_id, reply_wamid=reply_wamid, now=self._clock.now()
        )
        return [Text(body=t(language, f"csat.{outcome}", institution=institution))]


def with_csat(inner: TapRouter | None, *, clock: Clock = system_clock) -> CsatTaps:
    return CsatTaps(inner, clock=clock)
