"""Assembles the services of one process from settings: storage, directory, ingest, workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from loket.channel.graph import GraphClient
from loket.channel.port import ChannelPort
from loket.clock import Clock, system_clock
from loket.config import Settings
from loket.conversation.engine import ConversationEngine
from loket.core.port import CorePort
from loket.db.engine import Database
from loket.dialogue.services import DialogueServices, step_up_settings
from loket.events.services import OutboundServices
from loket.inbox.conversation_handler import ConversationHandler
from loket.inbox.ingest import EnvelopeRows, WebhookIngest
from loket.inbox.processor import InboxProcessor
from loket.outbound.dispatcher import Dispatcher
from loket.outbound.statuses import StatusApplier
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
        db = db or Database(settings.effective_database_url, pool_size=settings.db_pool_size)
        box = SecretBox(settings.master_key_bytes)
        directory = PhoneDirectory(db, box, clock=clock)
        channel = channel or GraphClient(settings.graph_api_url, timeout=settings.graph_timeout_seconds)
        engine = ConversationEngine(core, step_up_settings(settings))
        # The outbound engine: rate limiter and policy gate built once per process (docs/policy-gate.md).
        outbound = OutboundServices.build(
            settings, db=db, box=box, directory=directory, channel=channel, core=core, clock=clock
        )
        handler = ConversationHandler(
            dialect=db.dialect, directory=directory, core=core, engine=engine, clock=clock, taps=outbound.taps, box=box
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
        processor = InboxProcessor(db, handler, clock=clock, after_commit=dialogue.after_commit(dispatcher.wake.set))
        statuses = outbound.statuses
        runtime = cls(
            settings=settings,
            clock=clock,
            db=db,
            box=box,
            directory=directory,
            core=core,
            channel=channel,
            ingest=WebhookIngest(db, directory, clock=clock),
            processor=processor,
            dispatcher=dispatcher,
            statuses=statuses,
            outbound=outbound,
            dialogue=dialogue,
        )
        runtime.ingest.on_stored_callback(runtime._on_stored)
        return runtime

    def _on_stored(self, rows: EnvelopeRows) -> None:
        if rows.messages:
            self.processor.wake.set()
        if rows.statuses:
            self.status_wake.set()

    async def start(self, *, process: bool, dispatch: bool) -> None:
        """Start the ingest writer and, when asked, the processing and dispatch loops."""
        self.ingest.start()
        if process:
            self._tasks.append(asyncio.create_task(self.processor.run_forever(), name="inbox"))
            self._tasks.append(asyncio.create_task(self._apply_statuses_forever(), name="statuses"))
            if self.dialogue is not None:
                self.dialogue.start()
        if dispatch:
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
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.dialogue is not None:
            await self.dialogue.stop()
        await self.ingest.stop()
        await self.dispatcher.close()
        await self.outbound.stop()
        close = getattr(self.channel, "close", None)
        if close is not None:
            await close()
        await self.db.dispose()
