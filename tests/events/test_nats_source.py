"""Events from NATS JetStream (a real nats-server): the same validation and idempotency as the API."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from events_support import BANK, Harness, make_harness, transaction
from sqlalchemy import func, select

from loket.config import Settings
from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.events.nats_source import JetStreamSource
from stack import free_port

nats = pytest.importorskip("nats")
SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    if not Path(SERVER).exists():
        pytest.fail("nats-server is not installed (apt-get install nats-server)")
    port = free_port()
    proc = subprocess.Popen(
        [SERVER, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(tmp_path / "js")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
async def harness(db: Database, settings: Settings) -> Harness:
    return await make_harness(db, settings)


async def test_events_from_jetstream_are_validated_idempotent_and_answered(harness: Harness, nats_url: str) -> None:
    source = JetStreamSource(harness.services.intake, nats_url)
    subscription = await source.connect()
    client = await nats.connect(nats_url)
    rejected: list[dict[str, object]] = []

    async def on_rejected(message: object) -> None:
        rejected.append(orjson.loads(message.data))  # type: ignore[attr-defined]

    await client.subscribe(f"loket.events.{BANK}.rejected", cb=on_rejected)
    try:
        js = client.jetstream()
        customer = harness.customer(0)
        good = transaction(customer["customer_id"], customer["accounts"][0].account_id, "js-1")
        bad = transaction(customer["customer_id"], customer["accounts"][0].account_id, "js-2", amount="12")
        await js.publish(f"loket.events.{BANK}", orjson.dumps(good))
        await js.publish(f"loket.events.{BANK}", orjson.dumps({"events": [good, bad]}))  # a replay and a bad one
        await js.publish(f"loket.events.{BANK}", b"not json")
        handled = 0
        for _ in range(10):
            handled += await source.run_once(subscription, timeout=0.5)
            if handled >= 3:
                break
        assert handled == 3
        await asyncio.sleep(0.2)
        async with harness.db.sessions() as session:
            count = await session.scalar(select(func.count()).select_from(OutboxMessage))
        assert count == 1, "the replayed event queued nothing more"
        assert len(rejected) == 1 and rejected[0]["results"][0]["error"]["field"] == "data.amount"  # type: ignore[index]
        assert await source.run_once(subscription, timeout=0.3) == 0, "everything was acknowledged"
    finally:
        await client.close()
        await source.close()
