"""Account notices: a change of terms, of fees, a maintenance window, to all or a segment of a
tenant's customers, with progress the API and the CLI can follow.

A notice is a `notice_campaigns` row. `fan_out` walks the tenant's known customers
(`outbound_recipients` with a relationship) by WhatsApp id, a batch per transaction, and queues one
outbox row per customer in the segment: an alert in the customer's language with the approved
utility template (`loket_account_update`) as its fallback, so the policy gate sends the template
outside the 24-hour window. The rows go at the bulk priority, after alerts and chat replies, so a
campaign of a million customers never delays a transaction alert. Any process may run `fan_out`:
the campaign row is locked while a batch is written, and every message's idempotency key is
unique per customer, so two processes cannot queue one twice. Progress is read from the outbox
rows themselves (their origin is `notice:<campaign id>`), never kept as counters that could drift.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.alerts import compose
from loket.alerts.compose import Audience
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.db.scope import SystemReason, system_scope
from loket.i18n.catalog import normalise_language
from loket.outbound.notice_request import NoticeRejected, NoticeRequest, check_fits
from loket.outbound.notice_request import digest as request_digest
from loket.outbound.outbox import PRIORITY, Purpose, enqueue_many, outbox_row
from loket.outbound.tables import NoticeCampaign, Recipient
from loket.tenancy.directory import PhoneDirectory

log = logging.getLogger(__name__)

BATCH = 500
BULK_PRIORITY = PRIORITY[Purpose.MARKETING]
FAILED_STATES = frozenset({"failed", "dead", "refused", "undeliverable", "cancelled"})
WAITING_STATES = frozenset({"queued", "sending", "unknown"})


class _Raced(Exception):
    """Another process moved the campaign's cursor first; this batch is rolled back."""


@dataclass(frozen=True, slots=True)
class Progress:
    queued: int  # messages written to the outbox
    waiting: int  # not sent yet (queued, being sent, outcome unknown)
    sent: int
    delivered: int
    read: int
    failed: int  # failed, refused by the gate, undeliverable, dead-lettered, cancelled

    @property
    def finished(self) -> int:
        return self.sent + self.failed


class NoticeService:
    def __init__(self, db: Database, directory: PhoneDirectory, *, clock: Clock = system_clock) -> None:
        self._db = db
        self._directory = directory
        self._clock = clock

    async def create(self, tenant_id: str, request: NoticeRequest, *, by: str) -> tuple[NoticeCampaign, bool]:
        """The campaign, and whether it existed already (the same id with the same content)."""
        tenant = await self._directory.tenant(tenant_id)
        if tenant is None or tenant.status != "active":
            raise NoticeRejected(409, "tenant_unavailable", "the tenant is not active")
        numbers = sorted(
            n.phone_number_id
            for n in await self._directory.numbers()
            if n.tenant_id == tenant_id and n.status == "active"
        )
        if not numbers:
            raise NoticeRejected(409, "tenant_unavailable", "the tenant has no active WhatsApp number")
        check_fits(request, tenant.display_name)
        digest = request_digest(request)
        async with self._db.transaction() as session:
            existing = await self._by_request(session, tenant_id, request.id)
            if existing is not None:
                if existing.content_sha256 != digest:
                    raise NoticeRejected(409, "id_reused", "a notice with this id and other content exists", "id")
                return existing, True
            call_centres = tenant.official_channels.get("call_centre_numbers") or [""]
            campaign = NoticeCampaign(
                id="ntc_" + secrets.token_hex(10),
                tenant_id=tenant_id,
                request_id=request.id,
                kind=request.kind,
                content={lang: text.model_dump() for lang, text in request.content.items()},
                content_sha256=digest,
                effective_at=request.effective_at,
                segment=request.segment.model_dump(exclude_none=True),
                phone_number_id=numbers[0],
                institution=tenant.display_name,
                call_centre=str(call_centres[0])[:40],
                default_language=normalise_language(tenant.default_language),
                state="fanning_out",
                cursor=None,
                scanned=0,
                matched=0,
                created_by=by[:64],
                created_at=self._clock.now(),
            )
            session.add(campaign)
            await _audit(session, campaign)
        log.info("notice %s created for tenant %s", campaign.id, tenant_id)
        return campaign, False

    async def get(self, tenant_id: str, request_id: str) -> NoticeCampaign | None:
        async with self._db.sessions() as session:
            return await self._by_request(session, tenant_id, request_id)

    @staticmethod
    async def _by_request(session: AsyncSession, tenant_id: str, request_id: str) -> NoticeCampaign | None:
        found: NoticeCampaign | None = await session.scalar(
            select(NoticeCampaign).where(NoticeCampaign.tenant_id == tenant_id, NoticeCampaign.request_id == request_id)
        )
        return found

    async def fan_out(self, *, batch: int = BATCH, campaign_id: str | None = None) -> int:
        """Queue one batch of one campaign still fanning out; the number of recipients looked at
        (0 when there was nothing to do, or another process did this batch). Campaigns of every
        tenant: a scheduled sweep."""
        with system_scope(SystemReason.SCHEDULER):
            try:
                return await self._fan_out(batch, campaign_id)
            except _Raced:
                return 0

    async def _fan_out(self, batch: int, campaign_id: str | None) -> int:
        async with self._db.transaction() as session:
            query = select(NoticeCampaign).where(NoticeCampaign.state == "fanning_out")
            if campaign_id is not None:
                query = query.where(NoticeCampaign.id == campaign_id)
            campaign = await session.scalar(
                query.order_by(NoticeCampaign.created_at).limit(1).with_for_update(skip_locked=True)
            )
            if campaign is None:
                return 0
            start = campaign.cursor
            recipients = list(
                (
                    await session.execute(
                        select(Recipient)
                        .where(
                            Recipient.tenant_id == campaign.tenant_id,
                            Recipient.customer_id.is_not(None),
                            Recipient.wa_id > (start or ""),
                        )
                        .order_by(Recipient.wa_id)
                        .limit(batch)
                    )
                ).scalars()
            )
            matches = segment_matcher(campaign.segment)
            rows = [self._row(campaign, r) for r in recipients if matches(r)]
            await enqueue_many(session, self._db.dialect, rows)
            values: dict[str, Any] = {
                "scanned": NoticeCampaign.scanned + len(recipients),
                "matched": NoticeCampaign.matched + len(rows),
                "cursor": recipients[-1].wa_id if recipients else start,
            }
            if len(recipients) < batch:
                values.update(state="queued", fanned_out_at=self._clock.now())
            # Only from the cursor this batch started at: a second process that read the same one
            # (SQLite has no row lock) rolls back instead of counting the batch twice.
            moved = await session.execute(
                update(NoticeCampaign)
                .where(
                    NoticeCampaign.id == campaign.id,
                    NoticeCampaign.state == "fanning_out",
                    NoticeCampaign.cursor.is_(None) if start is None else NoticeCampaign.cursor == start,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if not getattr(moved, "rowcount", 0):
                raise _Raced
            if "state" in values:
                log.info("notice %s fanned out", campaign.id)
            return max(len(recipients), 1)

    async def fan_out_all(self, *, batch: int = BATCH, limit: int = 20) -> int:
        """A worker job: a few batches, then yield to the other jobs."""
        done = 0
        for _ in range(limit):
            scanned = await self.fan_out(batch=batch)
            if scanned == 0:
                break
            done += scanned
        return done

    def _row(self, campaign: NoticeCampaign, recipient: Recipient) -> dict[str, Any]:
        language = normalise_language(recipient.language or campaign.default_language)
        content = campaign.content.get(language) or campaign.content.get(campaign.default_language)
        if content is None:
            language, content = next(iter(campaign.content.items()))
        audience = Audience(language, recipient.zone, campaign.institution, campaign.call_centre)
        text = compose.notice_text(
            audience, title=content["title"], body=content["body"], effective_at=campaign.effective_at
        )
        composed = compose.update_alert(audience, text)
        row = outbox_row(
            tenant_id=campaign.tenant_id,
            phone_number_id=campaign.phone_number_id,
            to_wa_id=recipient.wa_id,
            payload=dict(composed.message.to_payload()),
            purpose=Purpose.ALERT,
            idempotency_key=f"ntc:{campaign.id}:{recipient.wa_id}",
            now=self._clock.now(),
            fallback=dict(composed.template.to_payload()) if composed.template else None,
            origin=f"notice:{campaign.id}",
        )
        row["priority"] = BULK_PRIORITY
        return row

    async def progress(self, campaign: NoticeCampaign) -> Progress:
        async with self._db.sessions() as session:
            counts = (
                await session.execute(
                    select(OutboxMessage.state, OutboxMessage.delivery_status, func.count())
                    .where(OutboxMessage.origin == f"notice:{campaign.id}")
                    .group_by(OutboxMessage.state, OutboxMessage.delivery_status)
                )
            ).all()
        total = waiting = sent = delivered = read = failed = 0
        for state, status, count in counts:
            total += count
            if state in WAITING_STATES:
                waiting += count
            elif state in FAILED_STATES or status == "failed":
                failed += count
            elif state == "sent":
                sent += count
                delivered += count if status in ("delivered", "read") else 0
                read += count if status == "read" else 0
        return Progress(total, waiting, sent, delivered, read, failed)

    async def status(self, campaign: NoticeCampaign) -> dict[str, Any]:
        """What `GET /v1/notices/{id}` answers."""
        progress = await self.progress(campaign)
        done = campaign.state == "queued" and progress.waiting == 0
        return {
            "id": campaign.request_id,
            "notice_id": campaign.id,
            "kind": campaign.kind,
            "state": "done" if done else campaign.state,
            "segment": campaign.segment,
            "created_at": campaign.created_at.isoformat(),
            "fanned_out_at": campaign.fanned_out_at.isoformat() if campaign.fanned_out_at else None,
            "customers_considered": campaign.scanned,
            "recipients": campaign.matched,
            "progress": {
                "queued": progress.queued,
                "waiting": progress.waiting,
                "sent": progress.sent,
                "delivered": progress.delivered,
                "read": progress.read,
                "failed": progress.failed,
            },
        }


def segment_matcher(segment: dict[str, Any]) -> Callable[[Recipient], bool]:
    """Whether a recipient is in the stored segment (every filter given must match)."""
    ids = frozenset(segment["customer_ids"]) if segment.get("customer_ids") is not None else None
    languages = segment.get("languages")
    zones = segment.get("zones")
    products = [p.casefold() for p in segment["products"]] if segment.get("products") is not None else None

    def matches(recipient: Recipient) -> bool:
        if ids is not None and recipient.customer_id not in ids:
            return False
        if languages is not None and normalise_language(recipient.language) not in languages:
            return False
        if zones is not None and recipient.zone not in zones:
            return False
        if products is not None:
            names = [str(a.get("product", "")).casefold() for a in (recipient.accounts or {}).values()]
            if not any(wanted in name for wanted in products for name in names):
                return False
        return True

    return matches


async def _audit(session: AsyncSession, campaign: NoticeCampaign) -> None:
    from loket.audit.events import EventType
    from loket.audit.log import current

    audit_log = current()
    if audit_log is None:
        return
    await audit_log.record(
        EventType.NOTICE_CREATED,
        tenant=campaign.tenant_id,
        fields={
            "notice": campaign.id,
            "by": campaign.created_by,
            "kind": campaign.kind,
            "sha256": campaign.content_sha256,
        },
        actor=campaign.created_by,
        at=campaign.created_at,
        session=session,
    )
