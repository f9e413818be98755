"""The conversation's background work in one process: the step-up watcher and the document sender."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from loket.channel.port import ChannelPort
from loket.clock import Clock
from loket.config import Settings
from loket.conversation.stepup import StepUpSettings
from loket.core.port import CorePort
from loket.db.engine import Database
from loket.dialogue.documents import DocumentSender
from loket.dialogue.stepup_watch import StepUpWatcher
from loket.security.secretbox import SecretBox
from loket.tenancy.directory import PhoneDirectory


def step_up_settings(settings: Settings) -> StepUpSettings:
    return StepUpSettings(
        request_ttl_seconds=settings.step_up_request_ttl_seconds,
        elevated_ttl_seconds=settings.step_up_ttl_seconds,
    )


@dataclass
class DialogueServices:
    watcher: StepUpWatcher
    documents: DocumentSender
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        db: Database,
        core: CorePort,
        channel: ChannelPort,
        directory: PhoneDirectory,
        box: SecretBox,
        clock: Clock,
        wake_processor: Callable[[], None],
        wake_dispatcher: Callable[[], None],
    ) -> DialogueServices:
        watcher = StepUpWatcher(
            db, core, clock=clock, interval_seconds=settings.step_up_poll_seconds, on_event=wake_processor
        )
        documents = DocumentSender(db, channel, directory, box, clock=clock, on_queued=wake_dispatcher)
        return cls(watcher, documents)

    def after_commit(self, then: Callable[[], None]) -> Callable[[], None]:
        """What the inbox processor calls after each commit: wake the dispatcher, and the documents."""

        def wake() -> None:
            then()
            self.documents.wake.set()
            self.watcher.wake.set()

        return wake

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.watcher.run_forever(), name="step-up-watch"))
        self._tasks.append(asyncio.create_task(self.documents.run_forever(), name="documents"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
