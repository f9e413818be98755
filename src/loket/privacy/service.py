"""The privacy work of one process: deliver access exports, carry out erasures, flag overdue requests
and run the daily retention purge. Driven by the worker loop (`run_forever`) and by staff (web, CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter, Gauge
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.audit import AuditLog, EventType
from loket.clock import Clock, system_clock
from loket.core.port import CoreError, CorePort
from loket.db.engine import Database
from loket.db.models import InboundMessage, PhoneNumber, Tenant
from loket.db.upsert import insert_ignore
from loket.dialogue.persist import seal_document
from loket.dialogue.tables import OutgoingDocument
from loket.i18n.catalog import t
from loket.journeys.statement_pdf import password_for
from loket.privacy import erasure, export, export_pdf, holds, requests, retention
from loket.privacy.model import OPEN, Channel, Right, Status, TransitionError
from loket.privacy.tables import PrivacyRequest, PurgeRun
from loket.security.keystore import KeyStore
from loket.security.secretbox import SecretBox

log = logging.getLogger(__name__)
WORKER = "system:privacy-worker"
PURGE_EVERY = timedelta(hours=24)
# A deployment never purged waits this long after start: a fresh process does not purge under the feet of
# whoever is starting it (an operator checking the configuration first runs `loket privacy purge --dry-run`).
FIRST_PURGE_AFTER = timedelta(minutes=10)

REQUESTS_OVERDUE = Counter("loket_privacy_requests_overdue_total", "Data-subject requests past 3x24h", ["right"])
REQUESTS_OPEN_OVERDUE = Gauge("loket_privacy_requests_overdue_open", "Open data-subject requests past their deadline")
REQUESTS_DONE = Counter("loket_privacy_requests_done_total", "Data-subject requests closed", ["right", "outcome"])


@dataclass(frozen=True, slots=True)
class Built:
    json: bytes
    pdf: bytes
    rows: int

    @property
    def json_sha256(self) -> str:
        return export.sha256(self.json)

    @property
    def pdf_sha256(self) -> str:
        return export.sha256(self.pdf)


class PrivacyService:
    def __init__(
        self,
        db: Database,
        audit_log: AuditLog,
        *,
        box: SecretBox | None = None,
        core: CorePort | None = None,
        shredder: erasure.Shredder | None = None,
        keys: KeyStore | None = None,
        clock: Clock = system_clock,
        interval_seconds: float = 5.0,
    ) -> None:
        self.db, self.audit, self.box, self.core, self.clock = db, audit_log, box, core, clock
        self.keys = keys
        self.shredder = shredder if shredder is not None else erasure.installed_shredder()
        self.interval = interval_seconds
        self.wake = asyncio.Event()
        self._last_purge: datetime | None = None

    # exports

    async def _institution(self, session: AsyncSession, tenant_id: str) -> str:
        name = (await session.execute(select(Tenant.display_name).where(Tenant.id == tenant_id))).scalar_one_or_none()
        return name or tenant_id

    async def build_export(self, session: AsyncSession, row: PrivacyRequest, *, actor: str) -> Built:
        """JSON and PDF of everything held about the request's subject; audited as an export."""
        if row.wa_id is None:
            raise TransitionError(f"request {row.reference}: the subject's data was erased")
        now = self.clock.now()
        collected = await export.collect(
            session,
            tenant_id=row.tenant_id,
            wa_id=row.wa_id,
            customer_id=row.customer_id,
            pseudonym=row.subject_hash,
            reference=row.reference,
            now=now,
            box=self.box,
            keys=self.keys,
        )
        institution = await self._institution(session, row.tenant_id)
        built = Built(
            collected.json_bytes(),
            export_pdf.render(collected, institution=institution, language=row.language),
            collected.row_count(),
        )
        await self.audit.record(
            EventType.EXPORT_CREATED,
            tenant=row.tenant_id,
            fields={
                "export": row.reference,
                "kind": "dsr_access",
                "by": actor,
                "rows": built.rows,
                "sha256": built.json_sha256,
            },
            actor=actor,
            session=session,
        )
        await requests.note(
            session,
            self.audit,
            row,
            "export_built",
            actor=actor,
            now=now,
            sha256=built.json_sha256,
            rows=built.rows,
            detail={"pdf_sha256": built.pdf_sha256},
        )
        return built

    async def _phone_number_id(self, session: AsyncSession, row: PrivacyRequest) -> str | None:
        last = await session.execute(
            select(InboundMessage.phone_number_id)
            .where(InboundMessage.tenant_id == row.tenant_id, InboundMessage.wa_id == row.wa_id)
            .order_by(InboundMessage.id.desc())
            .limit(1)
        )
        found = last.scalar_one_or_none()
        if found is None:
            first = await session.execute(
                select(PhoneNumber.phone_number_id).where(PhoneNumber.tenant_id == row.tenant_id).limit(1)
            )
            found = first.scalar_one_or_none()
        return found

    async def deliver_access(self, reference_tenant: tuple[str, str], *, actor: str = WORKER) -> str:
        """Build the export and send it as an encrypted PDF document over WhatsApp; completes the request."""
        tenant_id, reference = reference_tenant
        if self.box is None or self.core is None:
            raise RuntimeError("delivering exports over WhatsApp needs the SecretBox and the core")
        async with self.db.transaction() as session:
            row = await requests.get(session, tenant_id, reference, lock=True)
            if Status(row.status) is not Status.IN_PROGRESS or Right(row.right) is not Right.ACCESS:
                return row.status
            password = await self._password(row)
            if password is None:
                await requests.note(
                    session,
                    self.audit,
                    row,
                    "needs_staff_delivery",
                    actor=actor,
                    now=self.clock.now(),
                    detail={"why": "no_date_of_birth"},
                )
                return row.status
            built = await self.build_export(session, row, actor=actor)
            pnid = await self._phone_number_id(session, row)
            if pnid is None or row.wa_id is None:
                raise RuntimeError(f"tenant {tenant_id} has no phone number to send from")
            now, key = self.clock.now(), f"dsr:{row.reference}"
            document = export_pdf.protected(built.pdf, password)
            institution = await self._institution(session, tenant_id)
            await session.execute(
                insert_ignore(self.db.dialect, OutgoingDocument, "idempotency_key").values(
                    idempotency_key=key,
                    tenant_id=tenant_id,
                    phone_number_id=pnid,
                    to_wa_id=row.wa_id,
                    filename=f"data-pribadi-{row.reference}.pdf",
                    caption=t(row.language, "privacy.export_caption", institution=institution, reference=row.reference),
                    mime_type="application/pdf",
                    language=row.language,
                    content_enc=seal_document(self.box, document, key),
                    status="queued",
                    attempts=0,
                    created_at=now,
                    not_before=now,
                )
            )
            await requests.advance(
                session,
                self.audit,
                row,
                Status.COMPLETED,
                actor=actor,
                now=now,
                step="export_delivered",
                sha256=export.sha256(document),
                rows=built.rows,
            )
            REQUESTS_DONE.labels(row.right, "completed").inc()
            return row.status

    async def _password(self, row: PrivacyRequest) -> str | None:
        if self.core is None or row.customer_id is None:
            return None
        try:
            customer = await self.core.get_customer(row.tenant_id, row.customer_id)
        except CoreError:
            return None
        return password_for(customer.date_of_birth)

    # erasure

    async def erase(self, tenant_id: str, reference: str, *, actor: str = WORKER) -> str:
        """Carry out a verified erasure request (see loket.privacy.erasure); returns its new status."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            row = await requests.get(session, tenant_id, reference, lock=True)
            if Status(row.status) is not Status.IN_PROGRESS or Right(row.right) is not Right.ERASURE:
                return row.status
            wa_id, customer_id, subject = row.wa_id, row.customer_id, row.subject_hash
            if wa_id is None:
                raise TransitionError(f"request {reference}: nothing left to erase")
            if await holds.held(session, tenant_id, wa_id):
                await requests.advance(
                    session, self.audit, row, Status.REJECTED, actor=actor, now=now, reason="legal_hold"
                )
                REQUESTS_DONE.labels(row.right, "rejected").inc()
                return row.status
        shred: dict[str, object] = {"shredding": "not_installed"}
        if self.shredder is not None:  # its own transaction: SQLite has one connection
            shred = {"shredding": "done", **erasure.report_json(await self.shredder(self.db, tenant_id, wa_id))}
        async with self.db.transaction() as session:
            done = await erasure.erase_records(
                session, tenant_id=tenant_id, wa_id=wa_id, customer_id=customer_id, subject_hash=subject
            )
            row = await requests.get(session, tenant_id, reference, lock=True)
            await requests.advance(
                session,
                self.audit,
                row,
                Status.COMPLETED,
                actor=actor,
                now=self.clock.now(),
                step=requests.ERASED_STEP,
                rows=done.rows,
                detail={**done.to_json(), **shred},
            )
            REQUESTS_DONE.labels(row.right, "completed").inc()
            return row.status

    # the worker pass

    async def flag_overdue(self) -> int:
        """Open requests past 3x24h: an audit entry, a metric and a flag staff see (`overdue_at`), once each."""
        now = self.clock.now()
        flagged = 0
        async with self.db.transaction() as session:
            for row in await requests.find(session, overdue_at=now, limit=500):
                if row.overdue_at is not None:
                    continue
                row.overdue_at = now
                await self.audit.record(
                    EventType.DSR_OVERDUE,
                    tenant=row.tenant_id,
                    fields={"request": row.reference, "right": row.right, "status": row.status, "due_at": row.due_at},
                    actor=WORKER,
                    session=session,
                )
                REQUESTS_OVERDUE.labels(row.right).inc()
                log.warning("data-subject request overdue", extra={"request": row.reference, "right": row.right})
                flagged += 1
            open_overdue = await requests.find(session, overdue_at=now, limit=10_000)
        REQUESTS_OPEN_OVERDUE.set(len(open_overdue))
        return flagged

    async def run_once(self) -> int:
        done = await self.flag_overdue()
        async with self.db.sessions() as session:
            due = await requests.find(session, statuses=[Status.IN_PROGRESS], rights=[Right.ACCESS, Right.ERASURE])
        for row in due:
            try:
                if row.right == Right.ERASURE.value:
                    await self.erase(row.tenant_id, row.reference)
                elif row.channel == Channel.WHATSAPP.value and not _noted(row, "needs_staff_delivery"):
                    await self.deliver_access((row.tenant_id, row.reference))
                else:
                    continue
                done += 1
            except Exception:
                log.exception("privacy request could not be carried out", extra={"request": row.reference})
        if await self._purge_due():
            await retention.purge(self.db, self.audit, now=self.clock.now(), actor=WORKER)
            self._last_purge = self.clock.now()
        return done

    async def _purge_due(self) -> bool:
        now = self.clock.now()
        if self._last_purge is None:
            async with self.db.sessions() as session:
                last = await session.execute(
                    select(PurgeRun.started_at).where(PurgeRun.dry_run.is_(False)).order_by(PurgeRun.id.desc()).limit(1)
                )
                self._last_purge = last.scalar_one_or_none() or now - PURGE_EVERY + FIRST_PURGE_AFTER
        return now - self._last_purge >= PURGE_EVERY

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("privacy pass failed; retrying")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.interval)


def _noted(row: PrivacyRequest, step: str) -> bool:
    return any(isinstance(e, dict) and e.get("step") == step for e in row.evidence or [])


__all__ = ["OPEN", "Built", "PrivacyService"]
