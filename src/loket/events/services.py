"""The outbound engine of one process, assembled once: the rate limiter and the policy gate, the
dispatcher, the status applier, heartbeats and recovery, callbacks to institutions, confirmations,
and the events API. `loket worker` runs its background jobs; `loket serve` mounts its router.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from loket.alerts.compose import Audience
from loket.channel.port import ChannelPort
from loket.clock import Clock, system_clock
from loket.compliance.calendar import HolidayCalendar
from loket.config import Settings
from loket.core.port import CorePort
from loket.db.engine import Database
from loket.events.api import build_events_router
from loket.events.callbacks import CallbackSender, MessageNotifier
from loket.events.confirming import ConfirmationService
from loket.events.customers import CustomerDirectory
from loket.events.digest import send_due_digests
from loket.events.endpoints import EndpointStore
from loket.events.handlers import EventHandlers
from loket.events.intake import EventIntake
from loket.events.nats_source import JetStreamSource
from loket.events.tables import Confirmation
from loket.events.taps import TapHandler
from loket.outbound.admin import export_metrics, queue_status
from loket.outbound.consent import apply_preference_events
from loket.outbound.dispatcher import Dispatcher
from loket.outbound.metrics import LIMITER_DEGRADED
from loket.outbound.notices import NoticeService
from loket.outbound.policy import OutboundPolicy
from loket.outbound.ratelimit import RateLimiter
from loket.outbound.ratelimit_redis import build_rate_limiter
from loket.outbound.statuses import StatusApplier
from loket.outbound.tables import Recipient
from loket.outbound.templates import apply_template_events
from loket.security.secretbox import SecretBox
from loket.tenancy.directory import PhoneDirectory

log = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    every: float
    run: Callable[[], Awaitable[object]]
    last: float = field(default=float("-inf"))


@dataclass
class OutboundServices:
    db: Database
    directory: PhoneDirectory
    clock: Clock
    limiter: RateLimiter
    policy: OutboundPolicy
    dispatcher: Dispatcher
    statuses: StatusApplier
    endpoints: EndpointStore
    callbacks: CallbackSender
    confirmations: ConfirmationService
    intake: EventIntake
    taps: TapHandler
    notices: NoticeService
    nats: JetStreamSource | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        db: Database,
        box: SecretBox,
        directory: PhoneDirectory,
        channel: ChannelPort,
        core: CorePort,
        clock: Clock = system_clock,
    ) -> OutboundServices:
        limiter = build_rate_limiter(settings.redis_url, worker_count=settings.worker_count, clock=clock)
        calendar = (
            HolidayCalendar.from_toml(settings.holiday_calendar_file)
            if settings.holiday_calendar_file
            else HolidayCalendar()
        )
        policy = OutboundPolicy(calendar, clock=clock)
        notifier = MessageNotifier(db.dialect, clock=clock)
        dispatcher = Dispatcher(
            db,
            channel,
            directory,
            clock=clock,
            limiter=limiter,
            policy=policy,
            listener=notifier,
            pace=settings.outbound_pacing,
        )
        endpoints = EndpointStore(db, box, clock=clock)
        confirmations = ConfirmationService(db.dialect, core, clock=clock)
        intake = EventIntake(
            db,
            directory,
            endpoints,
            CustomerDirectory(core, clock=clock),
            EventHandlers(db.dialect, confirmations, clock=clock),
            clock=clock,
        )
        return cls(
            db=db,
            directory=directory,
            clock=clock,
            limiter=limiter,
            policy=policy,
            dispatcher=dispatcher,
            statuses=StatusApplier(db, clock=clock, listener=notifier),
            endpoints=endpoints,
            callbacks=CallbackSender(db, endpoints, clock=clock),
            confirmations=confirmations,
            intake=intake,
            taps=TapHandler(db.dialect, confirmations, clock=clock),
            notices=NoticeService(db, directory, clock=clock),
            nats=JetStreamSource(intake, settings.nats_url, prefix=settings.nats_subject_prefix)
            if settings.nats_url
            else None,
        )

    def events_router(self) -> APIRouter:
        return build_events_router(self.intake, self.db, self.confirmations, self.notices)

    async def _audience(self, session: AsyncSession, row: Confirmation) -> Audience:
        # The directory answers from memory here: it was refreshed before the job's transaction
        # (a second connection would wait forever for SQLite's single one).
        tenant = self.directory.cached_tenant(row.tenant_id)
        recipient = await session.get(Recipient, (row.tenant_id, row.wa_id))
        call_centres = (tenant.official_channels.get("call_centre_numbers") if tenant else None) or [""]
        return Audience(
            row.language, recipient.zone if recipient else None, tenant.display_name if tenant else "", call_centres[0]
        )

    async def _expire(self) -> int:
        await self.directory.numbers()  # refreshes the snapshot when it is stale
        return await self.confirmations.expire_due(self.db, self._audience)

    async def _step_ups(self) -> int:
        await self.directory.numbers()
        return await self.confirmations.poll_step_ups(self.db, self._audience)

    def jobs(self) -> list[Job]:
        async def metrics() -> None:
            export_metrics(await queue_status(self.db, clock=self.clock))
            LIMITER_DEGRADED.set(1 if getattr(self.limiter, "degraded", False) else 0)

        return [
            Job("confirmations.expire", 1.0, self._expire),
            Job("confirmations.step_up", 2.0, self._step_ups),
            Job("templates.status", 5.0, lambda: apply_template_events(self.db, clock=self.clock)),
            Job("consent.preferences", 5.0, lambda: apply_preference_events(self.db, clock=self.clock)),
            Job("alerts.digest", 60.0, lambda: send_due_digests(self.db, self.directory, clock=self.clock)),
            Job("outbox.metrics", 10.0, metrics),
            Job("notices.fan_out", 2.0, self.notices.fan_out_all),
        ]

    async def _periodic(self) -> None:
        jobs = self.jobs()
        while True:
            for job in jobs:
                now = self.clock.monotonic()
                if now - job.last < job.every:
                    continue
                job.last = now
                try:
                    await job.run()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbound job %s failed; it runs again in %.0f s", job.name, job.every)
            await asyncio.sleep(0.5)

    def start(self) -> None:
        """The background work of a process that dispatches (`loket worker`, `serve --with-worker`)."""
        from loket.outbound.workers import WorkerRegistry

        registry = WorkerRegistry(self.db, self.dispatcher.worker_id, clock=self.clock)
        self._tasks += [
            asyncio.create_task(registry.run_forever(), name="outbound-heartbeat"),
            asyncio.create_task(self.callbacks.run_forever(), name="institution-callbacks"),
            asyncio.create_task(self._periodic(), name="outbound-jobs"),
        ]
        if self.nats is not None:
            self._tasks.append(asyncio.create_task(self.nats.run_forever(), name="events-jetstream"))
        self._registry = registry

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        registry = getattr(self, "_registry", None)
        if registry is not None:
            with contextlib.suppress(Exception):
                await registry.stopped()
        await self.callbacks.close()
        if self.nats is not None:
            await self.nats.close()
        await self.limiter.aclose()
