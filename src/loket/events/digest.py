"""The daily digest: small transactions the customer asked to hear about quietly, in one message
at 19:00 in their own zone (a template outside the 24-hour window)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from loket.alerts.compose import Audience, DigestLine, digest
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import Conversation
from loket.events.tables import DigestItem
from loket.i18n.catalog import normalise_language
from loket.i18n.formatting import DEFAULT_ZONE, ZONE_ABBREVIATIONS
from loket.outbound.outbox import Purpose, enqueue
from loket.outbound.tables import Recipient
from loket.tenancy.directory import PhoneDirectory

DIGEST_AT = time(19, 0)


def last_digest_moment(now: datetime, zone: str | None) -> datetime:
    """The most recent 19:00 in the customer's zone, at or before `now`."""
    tz = ZoneInfo(zone if zone in ZONE_ABBREVIATIONS else DEFAULT_ZONE)
    local = now.astimezone(tz)
    today = datetime.combine(local.date(), DIGEST_AT, tzinfo=tz)
    return today if today <= local else today - timedelta(days=1)


async def send_due_digests(
    db: Database, directory: PhoneDirectory, *, clock: Clock = system_clock, batch: int = 200
) -> int:
    now = clock.now()
    sent = 0
    async with db.sessions() as session:
        customers = (
            await session.execute(
                select(DigestItem.tenant_id, DigestItem.customer_id, DigestItem.wa_id, DigestItem.phone_number_id)
                .where(DigestItem.digested_at.is_(None))
                .group_by(DigestItem.tenant_id, DigestItem.customer_id, DigestItem.wa_id, DigestItem.phone_number_id)
                .limit(batch)
            )
        ).all()
    tenants = {tenant_id: await directory.tenant(tenant_id) for tenant_id in {row[0] for row in customers}}
    async with db.transaction() as session:
        for tenant_id, customer_id, wa_id, phone_number_id in customers:
            recipient = await session.get(Recipient, (tenant_id, wa_id))
            zone = recipient.zone if recipient else None
            boundary = last_digest_moment(now, zone)
            items = (
                (
                    await session.execute(
                        select(DigestItem)
                        .where(
                            DigestItem.tenant_id == tenant_id,
                            DigestItem.customer_id == customer_id,
                            DigestItem.digested_at.is_(None),
                            DigestItem.created_at < boundary,
                        )
                        .order_by(DigestItem.created_at, DigestItem.id)
                    )
                )
                .scalars()
                .all()
            )
            if not items:
                continue
            tenant = tenants[tenant_id]
            conversation = await session.scalar(
                select(Conversation.language).where(Conversation.tenant_id == tenant_id, Conversation.wa_id == wa_id)
            )
            language = normalise_language(conversation or (recipient.language if recipient else None))
            call_centres = (tenant.official_channels.get("call_centre_numbers") if tenant else None) or [""]
            audience = Audience(language, zone, tenant.display_name if tenant else "", str(call_centres[0]))
            lines = [
                DigestLine(datetime.fromisoformat(i.line["at"]), str(i.line["description"]), int(i.line["amount"]))
                for i in items
            ]
            composed = digest(audience, lines)
            await enqueue(
                session,
                dialect=db.dialect,
                tenant_id=tenant_id,
                phone_number_id=phone_number_id,
                to_wa_id=wa_id,
                payload=dict(composed.message.to_payload()),
                purpose=Purpose.ALERT,
                idempotency_key=f"digest:{tenant_id}:{customer_id}:{boundary.date().isoformat()}",
                now=now,
                fallback=dict(composed.template.to_payload()) if composed.template else None,
                origin=f"digest:{customer_id}",
            )
            await session.execute(
                update(DigestItem).where(DigestItem.id.in_([i.id for i in items])).values(digested_at=now)
            )
            sent += 1
    return sent
