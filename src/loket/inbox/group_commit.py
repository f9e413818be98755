"""Group commit: concurrent webhook requests share one database transaction.

Each request still waits for its own rows to be committed before answering 200 (nothing is
acknowledged that is not durable), but N requests arriving together cost one commit, not N.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommitter(Generic[T]):
    def __init__(
        self, write_batch: Callable[[list[T]], Awaitable[None]], *, max_batch: int = 128, writers: int = 1
    ) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._writers = writers
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[None]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._run(), name=f"group-commit-{i}") for i in range(self._writers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(RuntimeError("shutting down"))

    async def submit(self, item: T) -> None:
        """Returns once `item` is committed; raises if its batch failed."""
        if not self._tasks:
            await self._write_batch([item])
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        await future

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write_batch([item for item, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                else:
                    # One bad item must not fail its neighbours: write them one by one.
                    for item, future in batch:
                        try:
                            await self._write_batch([item])
                        except Exception as single:  # that request answers 500 and Meta redelivers
                            _settle(future, single)
                        else:
                            _settle(future, None)
            else:
                for _, future in batch:
                    _settle(future, None)


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
