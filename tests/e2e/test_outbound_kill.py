"""Scale-out under a crash, with real processes: `loket serve`, two `loket worker`s sharing the rate
through Redis, and the Graph stand-in (bench/standin.py, signed status webhooks on). One worker is
killed with SIGKILL in the middle of a burst. Every alert reaches the stand-in exactly once, except
rows in flight at the kill, which are recovered as `unknown` by the other worker after the
heartbeat timeout and then either reconciled from their status webhook (they had arrived) or left
`unknown` (they had not); none arrives twice. No one-second window exceeds the number's rate."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import orjson
import pytest
import redis
from sqlalchemy import func, select

from loket.config import Settings
from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.events.signing import SIGNATURE_HEADER, TENANT_HEADER, signature_header
from stack import free_port
from support import TEST_SCOPE

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ALERTS = 1000
RATE = 100  # the number's configured messages per second


def bench_module() -> object:
    sys.path.insert(0, str(ROOT / "bench"))
    import alerts  # bench/alerts.py: tenant, number and templates for the stand-in

    return alerts


async def wait_http(http: aiohttp.ClientSession, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            async with http.get(url) as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(url)


async def rows_by_state(url: str) -> dict[str, int]:
    db = Database(url, default_scope=TEST_SCOPE)
    try:
        async with db.sessions() as session:
            found = await session.execute(
                select(OutboxMessage.state, func.count())
                .where(OutboxMessage.origin.like("event:%"))
                .group_by(OutboxMessage.state)
            )
            return {str(state): int(count) for state, count in found}
    finally:
        await db.dispose()


async def test_a_worker_killed_mid_burst_loses_and_duplicates_nothing(settings: Settings, tmp_path: Path) -> None:
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        pytest.skip("several workers share the work on PostgreSQL; SQLite runs as one process (ADR 0001)")
    alerts = bench_module()
    secret = await alerts.prepare(url)  # type: ignore[attr-defined]
    db = Database(url, default_scope=TEST_SCOPE)
    try:
        from sqlalchemy import update

        from loket.db.models import PhoneNumber

        async with db.transaction() as session:
            await session.execute(update(PhoneNumber).values(messages_per_second=RATE))
    finally:
        await db.dispose()
    redis.Redis.from_url("redis://127.0.0.1:6379/0").delete("loket:gcra:sender:100000000000777")
    standin_port, loket_port = free_port(), free_port()
    standin, loket = f"http://127.0.0.1:{standin_port}", f"http://127.0.0.1:{loket_port}"
    env = dict(os.environ)
    env.update(
        LOKET_DATABASE_URL=url,
        LOKET_META_APP_SECRET="bench-app-secret",
        LOKET_WEBHOOK_VERIFY_TOKEN="v",
        LOKET_MASTER_KEY=base64.urlsafe_b64encode(b"b" * 32).decode(),
        LOKET_GRAPH_API_URL=f"{standin}/v23.0",
        LOKET_CORE_URL=f"{standin}/core",
        LOKET_REDIS_URL="redis://127.0.0.1:6379/0",
        LOKET_WORKER_COUNT="2",
        LOKET_VAR_DIR=str(tmp_path / "var"),
        LOKET_LOG_LEVEL="WARNING",
    )

    def start(argv: list[str], log: str) -> subprocess.Popen[bytes]:
        handle = (tmp_path / log).open("wb")
        return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)

    webhook = f"{loket}/webhooks/whatsapp"
    procs = [
        start(
            [sys.executable, "bench/standin.py", "--port", str(standin_port), "--webhook-url", webhook], "standin.log"
        ),
        start([sys.executable, "-m", "loket.cli", "serve", "--port", str(loket_port)], "serve.log"),
    ]
    try:
        async with aiohttp.ClientSession() as http:
            await wait_http(http, f"{standin}/readyz")
            await wait_http(http, f"{loket}/readyz")
            workers = [start([sys.executable, "-m", "loket.cli", "worker"], f"worker{i}.log") for i in range(2)]
            procs += workers
            events = [
                {
                    "id": f"kill-{n}",
                    "type": "transaction.posted",
                    "occurred_at": "2026-11-30T10:15:00+07:00",
                    "customer_id": f"BENCH-{n:06d}",
                    "data": {
                        "account_id": f"ACC-{n:06d}",
                        "transaction_id": f"T-{n}",
                        "direction": "debit",
                        "amount": 25_000,
                        "description": f"bench:kill-{n}",
                    },
                }
                for n in range(ALERTS)
            ]
            body = orjson.dumps({"events": events})
            headers = {
                "Content-Type": "application/json",
                TENANT_HEADER: "bench-bank",
                SIGNATURE_HEADER: signature_header(secret.encode(), int(time.time()), body),
            }
            async with http.post(f"{loket}/v1/events/batch", data=body, headers=headers) as resp:
                assert resp.status == 200 and (await resp.json())["accepted"] == ALERTS
            # Kill one worker once the burst is well under way.
            for _ in range(600):
                if (await rows_by_state(url)).get("sent", 0) >= ALERTS // 4:
                    break
                await asyncio.sleep(0.1)
            workers[0].send_signal(signal.SIGKILL)
            in_flight = (await rows_by_state(url)).get("sending", 0)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                states = await rows_by_state(url)
                if states.get("queued", 0) == 0 and states.get("sending", 0) == 0:
                    break
                await asyncio.sleep(0.5)
            await asyncio.sleep(3)  # the last status webhooks
            states = await rows_by_state(url)
            async with http.get(f"{standin}/bench/arrivals") as resp:
                arrivals = [(tag, status) for _, tag, status in (await resp.json())["arrivals"]]
            async with http.get(f"{standin}/bench/rate") as resp:
                rate = await resp.json()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    accepted: dict[str, int] = {}
    for tag, status in arrivals:
        if status == 200 and tag:
            accepted[tag] = accepted.get(tag, 0) + 1
    assert max(accepted.values()) == 1, "no alert reached the phone twice"
    unknown = states.get("unknown", 0)
    assert states.get("sent", 0) + unknown == ALERTS, states
    assert states.get("sent", 0) == len(accepted), "every arrived alert is settled as sent (reconciled)"
    assert unknown <= max(in_flight, 64), (unknown, in_flight)
    assert rate["max_per_second"] <= RATE, rate
