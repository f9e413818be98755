"""Assembles the services of one process from settings: storage, directory, ingest, workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from loket.channel.graph import GraphClient
from loket.channel.port import ChannelPort
from loket.clock import Clock, system_clock
from loket.complaints.services import ComplaintServices
from loket.config import Settings
from loket.console.bus import ensure_bus
from loket.console.csat import with_csat
from loket.conversation.engine import ConversationEngine
from loket.core.port import CorePort
from loket.db.engine import Database
from loket.db.scope import SystemReason, system_scope
from loket.dialogue.services import DialogueServices, step_up_settings
from loket.events.services import OutboundServices
from loket.inbox.conversation_handler import ConversationHandler
from loket.inbox.ingest import EnvelopeRows, WebhookIngest
from loket.inbox.processor import InboxProcessor
from loket.outbound.dispatcher import Dispatcher
from loket.outbound.statuses import StatusApplier
from loket.privacy.worker import privacy_tasks
from loket.security.keycheck import keyring_from_settings, verify_master_keys
from loket.security.keystore import KeyStore, install_keystore
from loket.security.secretbox import SecretBox
from loket.tenancy.directory import PhoneDirectory

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    db: Database
    box: SecretBox
    directory: PhoneDirectory
    core: CorePort
    channel: ChannelPort
    ingest: WebhookIngest
    processor: InboxProcessor
    dispatcher: Dispatcher
    statuses: StatusApplier
    outbound: OutboundServices
    dialogue: DialogueServices | None = None
    complaints: ComplaintServices | None = None  # complaint desk and SLA reminders (docs/complaints.md)
    keys: KeyStore | None = None  # encryption at rest (docs/encryption.md)
    status_wake: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        core: CorePort,
        channel: ChannelPort | None = None,
        clock: Clock = system_clock,
        db: Database | None = None,
    ) -> Runtime:
        db = db or Database(
            settings.effective_database_url, pool_size=settings.db_pool_size, app_role=settings.database_app_role
        )
        box = SecretBox(settings.master_key_bytes)
        keys = KeyStore(keyring_from_settings(settings), dialect=db.dialect, clock=clock)
        install_keystore(keys)
        directory = PhoneDirectory(db, box, clock=clock)
        channel = channel or GraphClient(settings.graph_api_url, timeout=settings.graph_timeout_seconds)
        engine = ConversationEngine(core, step_up_settings(settings))
        # The outbound engine: rate limiter and policy gate built once per process (docs/policy-gate.md).
        outbound = OutboundServices.build(
            settings, db=db, box=box, directory=directory, channel=channel, core=core, clock=clock
        )
        complaints = ComplaintServices.build(settings, db=db, box=box, clock=clock)
        handler = ConversationHandler(
            dialect=db.dialect,
            directory=directory,
            core=core,
            engine=engine,
            clock=clock,
            taps=with_csat(outbound.taps, clock=clock),  # console CSAT answers, then the outbound engine's
            box=box,
            complaints=complaints.intake,  # complaints from WhatsApp (loket.complaints.intake)
        )
        dispatcher = outbound.dispatcher
        # Conversation background work (issue 3): step-up watcher and document uploads.
        dialogue = DialogueServices.build(
            settings,
            db=db,
            core=core,
            channel=channel,
            directory=directory,
            box=box,
            clock=clock,
            wake_processor=lambda: processor.wake.set(),
            wake_dispatcher=dispatcher.wake.set,
        )
        processor = InboxProcessor(
            db, handler, keys=keys, clock=clock, after_commit=dialogue.after_commit(dispatcher.wake.set)
        )
        statuses = outbound.statuses
        runtime = cls(
            settings=settings,
            clock=clock,
            db=db,
            box=box,
            directory=directory,
            core=core,
            channel=channel,
            ingest=WebhookIngest(db, directory, keys=keys, clock=clock),
            processor=processor,
            dispatcher=dispatcher,
            statuses=statuses,
            outbound=outbound,
            dialogue=dialogue,
            complaints=complaints,
            keys=keys,
        )
        runtime.ingest.on_stored_callback(runtime._on_stored)
        ensure_bus(settings.redis_url)  # console inbox events: handoffs announced to open consoles
        return runtime

    def _on_stored(self, rows: EnvelopeRows) -> None:
        if rows.messages:
            self.processor.wake.set()
        if rows.statuses:
            self.status_wake.set()

    async def start(self, *, process: bool, dispatch: bool) -> None:
        """Start the ingest writer and, when asked, the processing and dispatch loops."""
        if self.keys is not None:  # a wrong master key stops here, before anything is written (ADR 0006)
            await verify_master_keys(self.db, self.keys.keyring, clock=self.clock)
        # Background loops work across tenants: each starts in its listed system scope (a task keeps
        # the context it was created in; loket.db.scope). Requests get theirs from the caller.
        self.ingest.start()
        if process:
            with system_scope(SystemReason.INBOX_CLAIM):
                self._tasks.append(asyncio.create_task(self.processor.run_forever(), name="inbox"))
            with system_scope(SystemReason.STATUS_APPLY):
                self._tasks.append(asyncio.create_task(self._apply_statuses_forever(), name="statuses"))
            if self.dialogue is not None:
                with system_scope(SystemReason.SCHEDULER):
                    self.dialogue.start()
            if self.complaints is not None:
                with system_scope(SystemReason.SCHEDULER):  # SLA reminders sweep every tenant
                    self.complaints.start()
            with system_scope(SystemReason.SCHEDULER):  # data-subject requests, retention (docs/privacy.md)
                self._tasks.extend(privacy_tasks(self))
        if dispatch:
            with system_scope(SystemReason.OUTBOX_CLAIM):
                self._tasks.append(asyncio.create_task(self.dispatcher.run_forever(), name="dispatcher"))
                self.outbound.start()

    async def _apply_statuses_forever(self) -> None:
        wake = self.status_wake
        while True:
            try:
                applied = await self.statuses.run_once()
            except Exception:
                log.exception("status pass failed; retrying")
                applied = 0
            if applied:
                continue
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=0.5)

    async def stop(self) -> None:
        # The dispatcher stops gracefully (docs/outbound.md): it claims nothing more, finishes its
        # claiming pass, and below finishes or puts back the rows it holds.
        self.dispatcher.stop_claiming()
        for task in self._tasks:
            if task.get_name() == "dispatcher":
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(task), timeout=10)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.dialogue is not None:
            await self.dialogue.stop()
        if self.complaints is not None:
            await self.complaints.stop()
        await self.ingest.stop()
        await self.dispatcher.shutdown(self.settings.shutdown_grace_seconds)
        await self.outbound.stop()
        close = getattr(self.channel, "close", None)
        if close is not None:
            await close()
        await self.db.dispose()
