"""Marketing consent from the customer's own WhatsApp choices (the `user_preferences` webhook).

"stop" is an opt-out, acting at once (OFR-4). "resume" restores marketing consent only where the
customer had given it before: WhatsApp's switch is not itself a consent to offers from the
institution (OFR-2), but it does lift the stop the customer set there.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import ChannelEvent
from loket.outbound.settle import record_opt_out
from loket.outbound.tables import Recipient


async def apply_preference_events(db: Database, *, clock: Clock = system_clock, batch: int = 200) -> int:
    applied = 0
    async with db.transaction() as session:
        events = (
            await session.execute(
                select(ChannelEvent)
                .where(ChannelEvent.kind == "marketing_preference", ChannelEvent.processed.is_(False))
                .order_by(ChannelEvent.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
        for event in events:
            event.processed = True
            payload = event.payload or {}
            wa_id, choice = payload.get("wa_id"), str(payload.get("value", "")).lower()
            if event.tenant_id is None or not isinstance(wa_id, str):
                continue
            stamp = payload.get("timestamp")
            at = datetime.fromtimestamp(stamp, tz=UTC) if isinstance(stamp, int) else clock.now()
            if choice == "stop":
                await record_opt_out(session, db.dialect, event.tenant_id, wa_id, at)
            elif choice == "resume":
                await session.execute(
                    update(Recipient)
                    .where(
                        Recipient.tenant_id == event.tenant_id,
                        Recipient.wa_id == wa_id,
                        Recipient.marketing_consent_at.is_not(None),
                    )
                    .values(marketing_consent_at=at, updated_at=clock.now())
                )
            applied += 1
    return applied
