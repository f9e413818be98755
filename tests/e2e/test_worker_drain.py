"""`loket worker` stops gracefully on SIGTERM, as a real process: it claims nothing more, lets the
sends in flight finish, puts the claimed rows it had not sent back in the queue, and exits 0. A
second worker then sends the rest: every message reaches the Graph stand-in exactly once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select, update

from loket.config import Settings
from loket.db.engine import Database
from loket.db.models import OutboxMessage, PhoneNumber
from stack import free_port
from support import TEST_SCOPE

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 400
RATE = 40  # the number's messages per second: most claimed rows wait for a rate slot at SIGTERM
LATENCY = 0.4  # seconds the stand-in takes to answer each send


def bench() -> tuple[object, object]:
    sys.path.insert(0, str(ROOT / "bench"))
    import alerts
    import benchlib

    return alerts, benchlib


async def states(url: str) -> dict[str, int]:
    db = Database(url, default_scope=TEST_SCOPE)
    try:
        async with db.sessions() as session:
            found = await session.execute(
                select(OutboxMessage.state, func.count())
                .where(OutboxMessage.idempotency_key.like("drain:%"))
                .group_by(OutboxMessage.state)
            )
            return {str(state): int(count) for state, count in found}
    finally:
        await db.dispose()


async def arrivals(standin: str) -> dict[str, int]:
    async with aiohttp.ClientSession() as http, http.get(f"{standin}/bench/arrivals") as resp:
        rows = (await resp.json())["arrivals"]
    counted: dict[str, int] = {}
    for _, tag, status in rows:
        if status == 200 and tag:
            counted[tag] = counted.get(tag, 0) + 1
    return counted


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "loket.cli", "worker"], env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT
    )


async def wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the condition did not hold in time")


async def test_sigterm_drains_the_worker_and_exits_0(settings: Settings, tmp_path: Path) -> None:
    url = settings.effective_database_url
    alerts, benchlib = bench()
    await alerts.prepare(url)  # type: ignore[attr-defined]
    db = Database(url, default_scope=TEST_SCOPE)
    try:
        async with db.transaction() as session:
            await session.execute(update(PhoneNumber).values(messages_per_second=RATE))
    finally:
        await db.dispose()
    await alerts.backlog(url, MESSAGES, 200, prefix="drain")  # type: ignore[attr-defined]
    port = free_port()
    standin = f"http://127.0.0.1:{port}"
    env = benchlib.loket_env(  # type: ignore[attr-defined]
        url,
        LOKET_GRAPH_API_URL=f"{standin}/v23.0",
        LOKET_CORE_URL=f"{standin}/core",
        LOKET_VAR_DIR=str(tmp_path / "var"),
        LOKET_SHUTDOWN_GRACE_SECONDS="10",
    )
    env["LOKET_LOG_LEVEL"] = "INFO"
    env.pop("LOKET_REDIS_URL", None)
    argv = [sys.executable, "bench/standin.py", "--port", str(port), "--latency", str(LATENCY)]
    with benchlib.server(argv, port):  # type: ignore[attr-defined]
        first = start_worker(env, tmp_path / "worker1.log")
        try:
            await wait_for(lambda: _sent_at_least(url, RATE), timeout=60)
            first.send_signal(signal.SIGTERM)
            stopped_at = time.monotonic()
            code = await asyncio.to_thread(first.wait, 30)
        finally:
            if first.poll() is None:
                first.kill()
        took = time.monotonic() - stopped_at
        after_stop = await states(url)
        delivered = await arrivals(standin)
        output = (tmp_path / "worker1.log").read_text(errors="replace")
        assert code == 0, output[-2000:]
        assert took < 10, f"the drain took {took:.1f} s"
        assert after_stop.get("sending", 0) == 0 and after_stop.get("unknown", 0) == 0, after_stop
        assert after_stop.get("queued", 0) > 0, "the burst was stopped in the middle"
        assert after_stop.get("sent", 0) + after_stop.get("queued", 0) == MESSAGES, after_stop
        assert len(delivered) == after_stop["sent"] and max(delivered.values()) == 1
        assert "claimed rows released" in output

        second = start_worker(env, tmp_path / "worker2.log")
        try:
            await wait_for(lambda: _sent_at_least(url, MESSAGES), timeout=90)
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(second.wait, 30) == 0
        delivered = await arrivals(standin)
    assert len(delivered) == MESSAGES and max(delivered.values()) == 1, "every message once, none twice"


async def _sent_at_least(url: str, count: int) -> bool:
    return (await states(url)).get("sent", 0) >= count
