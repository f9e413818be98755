"""Real processes for the outbound engine's end-to-end tests: the Graph and core stand-in
(bench/standin.py, signed status webhooks on), `loket serve` processes taking events and webhooks,
`loket worker` processes sharing the number's rate through Redis; and what the tests look at:
outbox states, arrivals at the stand-in, its busiest second."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import redis
from sqlalchemy import func, select, update

from loket.db.engine import Database
from loket.db.models import OutboxMessage, PhoneNumber
from loket.events.signing import SIGNATURE_HEADER, TENANT_HEADER, signature_header
from stack import free_port
from support import TEST_SCOPE

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"


def bench_alerts() -> Any:
    sys.path.insert(0, str(ROOT / "bench"))
    import alerts  # bench/alerts.py: tenant, number and templates for the stand-in

    return alerts


@dataclass
class Stack:
    url: str
    tmp: Path
    secret: str
    env: dict[str, str]
    standin: str
    apis: list[str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, argv: list[str], log: str) -> subprocess.Popen[bytes]:
        handle = (self.tmp / log).open("wb")
        proc = subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def start_worker(self) -> subprocess.Popen[bytes]:
        proc = self.start([sys.executable, "-m", "loket.cli", "worker"], f"worker{len(self.workers)}.log")
        self.workers.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


async def wait_http(http: aiohttp.ClientSession, url: str, timeout: float = 60.0) -> None:
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


async def start_stack(url: str, tmp: Path, *, apis: int, workers: int, rate: int) -> Stack:
    """The bench tenant with its number at `rate` messages/s; `apis` serve processes (status
    webhooks go to the first) and `workers` workers sharing the rate through Redis."""
    secret = await bench_alerts().prepare(url)
    db = Database(url, default_scope=TEST_SCOPE)
    try:
        async with db.transaction() as session:
            await session.execute(update(PhoneNumber).values(messages_per_second=rate))
    finally:
        await db.dispose()
    redis.Redis.from_url(REDIS_URL).delete("loket:gcra:sender:100000000000777")
    standin_port, api_ports = free_port(), [free_port() for _ in range(apis)]
    standin = f"http://127.0.0.1:{standin_port}"
    env = dict(os.environ)
    env.update(
        LOKET_DATABASE_URL=url,
        LOKET_META_APP_SECRET="bench-app-secret",
        LOKET_WEBHOOK_VERIFY_TOKEN="v",
        LOKET_MASTER_KEY=base64.urlsafe_b64encode(b"b" * 32).decode(),
        LOKET_GRAPH_API_URL=f"{standin}/v23.0",
        LOKET_CORE_URL=f"{standin}/core",
        LOKET_REDIS_URL=REDIS_URL,
        LOKET_WORKER_COUNT=str(workers),
        LOKET_VAR_DIR=str(tmp / "var"),
        LOKET_LOG_LEVEL="WARNING",
    )
    stack = Stack(url, tmp, secret, env, standin, [f"http://127.0.0.1:{p}" for p in api_ports])
    webhook = f"{stack.apis[0]}/webhooks/whatsapp"
    standin_argv = [sys.executable, "bench/standin.py", "--port", str(standin_port), "--webhook-url", webhook]
    stack.start(standin_argv, "standin.log")
    for index, port in enumerate(api_ports):
        stack.start([sys.executable, "-m", "loket.cli", "serve", "--port", str(port)], f"serve{index}.log")
    async with aiohttp.ClientSession() as http:
        await wait_http(http, f"{standin}/readyz")
        for api in stack.apis:
            await wait_http(http, f"{api}/readyz")
    for _ in range(workers):
        stack.start_worker()
    return stack


def alert_events(prefix: str, count: int) -> list[dict[str, Any]]:
    """`count` transaction events, each for its own customer of the stand-in's core."""
    return [
        {
            "id": f"{prefix}-{n}",
            "type": "transaction.posted",
            "occurred_at": "2026-11-30T10:15:00+07:00",
            "customer_id": f"BENCH-{n:06d}",
            "data": {
                "account_id": f"ACC-{n:06d}",
                "transaction_id": f"T-{prefix}-{n}",
                "direction": "debit",
                "amount": 25_000,
                "description": f"bench:{prefix}-{n}",
            },
        }
        for n in range(count)
    ]


async def post_events(stack: Stack, events: list[dict[str, Any]], *, batch: int = 1000) -> int:
    """Posts the events in batches, spread over the API processes, two at a time; the accepted count."""
    chunks = [events[i : i + batch] for i in range(0, len(events), batch)]
    accepted = 0
    gate = asyncio.Semaphore(len(stack.apis))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:

        async def post(index: int, chunk: list[dict[str, Any]]) -> int:
            body = orjson.dumps({"events": chunk})
            url = f"{stack.apis[index % len(stack.apis)]}/v1/events/batch"
            async with gate:
                for attempt in range(5):  # as an institution would: event ids make a retry safe
                    headers = {  # signed when it leaves: a queued batch must not go stale
                        "Content-Type": "application/json",
                        TENANT_HEADER: "bench-bank",
                        SIGNATURE_HEADER: signature_header(stack.secret.encode(), int(time.time()), body),
                    }
                    try:
                        async with http.post(url, data=body, headers=headers) as resp:
                            if resp.status < 500 or attempt == 4:
                                assert resp.status == 200, await resp.text()
                                results = (await resp.json())["results"]
                                if all(r["status"] == "accepted" for r in results) or attempt == 4:
                                    return sum(r["status"] == "accepted" for r in results)
                    except aiohttp.ClientError:
                        if attempt == 4:
                            raise
                    await asyncio.sleep(2)
            raise AssertionError("unreachable")

        for count in await asyncio.gather(*(post(i, chunk) for i, chunk in enumerate(chunks))):
            accepted += count
    return accepted


async def states(url: str, prefix: str) -> dict[str, int]:
    db = Database(url, default_scope=TEST_SCOPE)
    try:
        async with db.sessions() as session:
            found = await session.execute(
                select(OutboxMessage.state, func.count())
                .where(OutboxMessage.origin.like(f"event:{prefix}-%"))
                .group_by(OutboxMessage.state)
            )
            return {str(state): int(count) for state, count in found}
    finally:
        await db.dispose()


async def wait_state(url: str, prefix: str, at_least: int, state: str = "sent", timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the database may be restarting
            if (await states(url, prefix)).get(state, 0) >= at_least:
                return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"fewer than {at_least} rows {state}")


async def wait_settled(url: str, prefix: str, timeout: float) -> dict[str, int]:
    """Until no row is queued or being sent (a killed worker's rows are recovered after 30 s)."""
    deadline = time.monotonic() + timeout
    found: dict[str, int] = {}
    while time.monotonic() < deadline:
        try:
            found = await states(url, prefix)
        except Exception:
            found = {}
        if found and found.get("queued", 0) == 0 and found.get("sending", 0) == 0:
            break
        await asyncio.sleep(0.5)
    # Rows recovered as `unknown` wait for their status webhook (they may be behind a busy queue).
    quiet_until = min(deadline, time.monotonic() + 30)
    while time.monotonic() < quiet_until and found.get("unknown", 0):
        await asyncio.sleep(1)
        found = await states(url, prefix)
    return found


async def delivered(stack: Stack, prefix: str) -> dict[str, int]:
    """How many times each alert reached the stand-in (accepted sends only)."""
    async with aiohttp.ClientSession() as http, http.get(f"{stack.standin}/bench/arrivals") as resp:
        rows = (await resp.json())["arrivals"]
    counted: dict[str, int] = {}
    for _, tag, status in rows:
        if status == 200 and tag and tag.startswith(prefix + "-"):
            counted[tag] = counted.get(tag, 0) + 1
    return counted


async def busiest_second(stack: Stack) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"{stack.standin}/bench/rate") as resp:
        return int((await resp.json())["max_per_second"])
