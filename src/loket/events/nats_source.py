"""Events from NATS JetStream, for institutions that publish to a broker: one adapter, the same
validation, idempotency and answers as the HTTP API (intake.py).

Subjects are `<prefix>.<tenant id>` (default `loket.events.bank-nusantara`), in the stream
`LOKET_EVENTS`, read by the durable pull consumer `loket-events`. A message holds one event (a JSON
object) or a batch (`{"events": [...]}`). The broker's own credentials authenticate the publisher;
the subject names the tenant. Each message is acknowledged once every event in it has a final
answer; rejected events are published on `<prefix>.<tenant>.rejected` with their answers, since a
broker has no response to carry them. When the core cannot say who a customer is (503), or the
tenant has no active number, the message is redelivered later (nak with a delay); a message that
is not JSON is terminated (it can never succeed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson

from loket.events.intake import EventIntake, TenantUnavailable
from loket.events.schemas import MAX_BATCH

log = logging.getLogger(__name__)

STREAM = "LOKET_EVENTS"
DURABLE = "loket-events"
RETRY_DELAY = 10.0


def _items(data: bytes) -> list[object] | None:
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        events: list[object] = body["events"]
        return events if 0 < len(events) <= MAX_BATCH else None
    return [body] if isinstance(body, dict) else None


class JetStreamSource:
    def __init__(self, intake: EventIntake, url: str, *, prefix: str = "loket.events", batch: int = 100) -> None:
        self._intake = intake
        self._url = url
        self._prefix = prefix
        self._batch = batch
        self._nc: Any = None

    async def connect(self) -> Any:
        import nats  # optional dependency: only processes that consume from a broker need it

        self._nc = await nats.connect(self._url, name="loket-events")
        js = self._nc.jetstream()
        subjects = [f"{self._prefix}.*"]
        try:
            await js.add_stream(name=STREAM, subjects=subjects)
        except Exception as exc:  # the stream exists with another configuration: use it as it is
            log.info("JetStream stream %s not (re)created: %s", STREAM, type(exc).__name__)
        return await js.pull_subscribe(f"{self._prefix}.*", durable=DURABLE, stream=STREAM)

    async def run_once(self, subscription: Any, *, timeout: float = 1.0) -> int:
        """Fetch and answer one batch of messages; returns how many were handled."""
        try:
            messages = await subscription.fetch(self._batch, timeout=timeout)
        except TimeoutError:
            return 0
        except Exception as exc:  # nats.errors.TimeoutError is not the builtin one in every version
            if type(exc).__name__ == "TimeoutError":
                return 0
            raise
        for message in messages:
            await self._handle(message)
        return len(messages)

    async def _handle(self, message: Any) -> None:
        tenant_id = message.subject[len(self._prefix) + 1 :]
        items = _items(message.data)
        if items is None or not tenant_id or "." in tenant_id:
            log.warning("JetStream message on %s is not an event or a batch: terminated", message.subject)
            await message.term()
            return
        try:
            results = await self._intake.submit(tenant_id, items)
        except TenantUnavailable:
            await message.nak(delay=RETRY_DELAY)
            return
        if any(result.http_status == 503 for result in results):
            await message.nak(delay=RETRY_DELAY)  # the accepted ones replay as accepted next time
            return
        rejected = [result.model_dump(mode="json") for result in results if result.status == "rejected"]
        if rejected:
            await self._nc.publish(f"{self._prefix}.{tenant_id}.rejected", orjson.dumps({"results": rejected}))
        await message.ack()

    async def run_forever(self) -> None:
        subscription = None
        while True:
            try:
                if subscription is None:
                    subscription = await self.connect()
                await self.run_once(subscription)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("JetStream events consumer failed; reconnecting in 5 s")
                subscription = None
                await self.close()
                await asyncio.sleep(5.0)

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None
