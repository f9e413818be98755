"""The outbound engine under load, with real processes: `loket serve`, `loket worker`, a Graph and
core-system stand-in (bench/standin.py: the sandbox plus a core with thousands of customers), and
load generators in their own processes. For each database:

A. events/s accepted by the events API (`loket serve` alone, single events and batches of 100,
   closed loop), beside the same uvicorn + Starlette stack answering 202 without work;
B. event-to-send latency at a fixed rate (500 events/s): from posting a transaction event to its
   alert arriving at the stand-in, with `loket worker` pacing the number at 1,000/s;
C. the most messages/s one `loket worker` pushes to the stand-in with pacing off (a backlog of
   queued alerts, window open, so the policy gate runs on each), beside the fastest bare aiohttp
   loop to the same stand-in in the same run.

    python bench/alerts.py                     # full sizes, PostgreSQL and SQLite
    python bench/alerts.py --smoke             # tiny sizes: checks that it runs
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import func, insert, select, update

from benchlib import MASTER_KEY, ROOT, free_port, loket_env, server, temp_database
from loket.db.engine import Database
from loket.db.migrate import upgrade
from loket.db.models import Conversation, OutboxMessage
from loket.db.scope import Scope, SystemReason
from loket.db.upsert import insert_ignore
from loket.events.endpoints import EndpointStore
from loket.outbound.outbox import DEADLINE, PRIORITY, Purpose
from loket.outbound.tables import MessageTemplate, Recipient
from loket.outbound.templates import DEFINITIONS, LANGUAGES
from loket.security.secretbox import SecretBox
from loket.tenancy.admin import PhoneNumberSpec, TenantSpec, upsert_phone_number, upsert_tenant
from standin import PNID, TENANT, TOKEN, WABA, wa_id

BENCH = ROOT / "bench"


def bench_db(url: str) -> Database:
    """The bench sets up and inspects every tenant's rows: the demo/test data scope."""
    return Database(url, default_scope=Scope(system=SystemReason.DEMO_SEED))


async def prepare(url: str) -> str:
    """Schema, the bench tenant and its number (1,000/s), approved templates, a signing secret."""
    db = bench_db(url)
    box = SecretBox(base64.urlsafe_b64decode(MASTER_KEY))
    try:
        await upgrade(db)
        await upsert_tenant(
            db,
            TenantSpec(TENANT, "bank", "PT Bank Bench", "Bank Bench", "KEP-0", {"call_centre_numbers": ["1500999"]}),
        )
        await upsert_phone_number(db, box, PhoneNumberSpec(PNID, TENANT, "+62 811 777", WABA, TOKEN, 1000))
        async with db.transaction() as session:
            now = time_now()
            for definition in DEFINITIONS:
                for language in LANGUAGES:
                    session.add(
                        MessageTemplate(
                            waba_id=WABA,
                            name=definition.name,
                            language=language,
                            category="UTILITY",
                            status="APPROVED",
                            updated_at=now,
                        )
                    )
        return await EndpointStore(db, box).rotate(TENANT)
    finally:
        await db.dispose()


def time_now() -> datetime:
    return datetime.now(UTC)


def load(args: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, str(BENCH / "events_load.py"), *args], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


@contextlib.contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loket.cli", "worker"], env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


async def worker_ready(url: str, timeout: float = 30.0) -> None:
    """A started worker has registered its heartbeat (its dispatcher is running)."""
    from loket.outbound.tables import OutboundWorker

    db = bench_db(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            async with db.sessions() as session:
                alive = await session.scalar(
                    select(func.count()).select_from(OutboundWorker).where(OutboundWorker.stopped_at.is_(None))
                )
            if alive:
                await asyncio.sleep(0.5)
                return
            await asyncio.sleep(0.2)
        raise RuntimeError("the worker did not start")
    finally:
        await db.dispose()


async def cancel_backlog(url: str) -> None:
    db = bench_db(url)
    try:
        async with db.transaction() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.state == "queued").values(state="cancelled")
            )
    finally:
        await db.dispose()


async def arrivals(base: str) -> list[tuple[float, str | None, int]]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/bench/arrivals") as resp:
        return [tuple(row) for row in (await resp.json())["arrivals"]]  # type: ignore[misc]


async def wait_arrivals(base: str, tags: set[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    found: dict[str, float] = {}
    while time.monotonic() < deadline:
        found = {tag: t for t, tag, status in await arrivals(base) if status == 200 and tag in tags}
        if len(found) >= len(tags):
            break
        await asyncio.sleep(0.5)
    return found


async def backlog(url: str, count: int, customers: int, prefix: str = "backlog") -> None:
    """`count` queued alerts to `customers` known customers whose window is open."""
    db = bench_db(url)
    now = time_now()
    try:
        async with db.transaction() as session:
            known = {w for (w,) in await session.execute(select(Recipient.wa_id).where(Recipient.tenant_id == TENANT))}
            fresh = [wa_id(n) for n in range(customers) if wa_id(n) not in known]
            if fresh:
                await session.execute(
                    insert(Recipient),
                    [{"tenant_id": TENANT, "wa_id": w, "customer_id": f"C-{w}", "updated_at": now} for w in fresh],
                )
            await session.execute(
                insert_ignore(db.dialect, Conversation, "tenant_id", "wa_id"),
                [
                    {
                        "tenant_id": TENANT,
                        "wa_id": wa_id(n),
                        "state": {},
                        "last_inbound_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(customers)
                ],
            )
            rows = [
                {
                    "tenant_id": TENANT,
                    "phone_number_id": PNID,
                    "to_wa_id": wa_id(n % customers),
                    "kind": "text",
                    "payload": {"type": "text", "text": {"body": f"Alert bench:{prefix}-{n}", "preview_url": False}},
                    "purpose": Purpose.ALERT.value,
                    "priority": PRIORITY[Purpose.ALERT],
                    "idempotency_key": f"{prefix}:{n}",
                    "created_at": now,
                    "not_before": now,
                    "deadline": now + DEADLINE[Purpose.ALERT],
                    "state": "queued",
                    "attempts": 0,
                }
                for n in range(count)
            ]
            for start in range(0, len(rows), 2000):
                await session.execute(insert(OutboxMessage), rows[start : start + 2000])
    finally:
        await db.dispose()


async def drained(url: str, count: int, timeout: float, prefix: str = "backlog") -> tuple[int, float]:
    """Wait until `count` backlog rows are sent; (sent, seconds from first to last send)."""
    db = bench_db(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            async with db.sessions() as session:
                sent, first, last = (
                    await session.execute(
                        select(func.count(), func.min(OutboxMessage.sent_at), func.max(OutboxMessage.sent_at)).where(
                            OutboxMessage.idempotency_key.like(f"{prefix}:%"), OutboxMessage.state == "sent"
                        )
                    )
                ).one()
            if sent >= count or time.monotonic() > deadline:
                span = (last - first).total_seconds() if first and last and sent > 1 else float("nan")
                return int(sent), span
            await asyncio.sleep(0.25)
    finally:
        await db.dispose()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")


def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> bool:
    ok = True
    standin_port, loket_port, base_port = free_port(), free_port(), free_port()
    standin = f"http://127.0.0.1:{standin_port}"
    loket = f"http://127.0.0.1:{loket_port}"
    with temp_database(backend) as url:
        secret = asyncio.run(prepare(url))
        env = loket_env(
            url,
            LOKET_GRAPH_API_URL=f"{standin}/v23.0",
            LOKET_CORE_URL=f"{standin}/core",
            LOKET_VAR_DIR=str(workdir / "var"),
        )
        standin_argv = [sys.executable, str(BENCH / "standin.py"), "--port", str(standin_port)]
        serve_argv = [sys.executable, "-m", "loket.cli", "serve", "--host", "127.0.0.1", "--port", str(loket_port)]
        with server(standin_argv, standin_port), server(serve_argv, loket_port, env=env):
            common = [loket, TENANT, secret]
            customers = str(args.customers)
            # A. The events API alone: warm the customer cache once, then measure.
            load([*common, "closed", "--batch", "100", "--concurrency", "4", "--duration", "600",
                  "--count", customers, "--customers", customers, "--prefix", "warm"])  # fmt: skip
            single = load([*common, "closed", "--concurrency", "32", "--duration", str(args.duration),
                           "--customers", customers, "--prefix", "one"])  # fmt: skip
            batch = load([*common, "closed", "--batch", "100", "--concurrency", "4", "--duration", str(args.duration),
                          "--customers", customers, "--prefix", "many"])  # fmt: skip
            asyncio.run(cancel_backlog(url))
            # B. Event to send at a fixed rate, with a worker pacing the number.
            posted_file = workdir / f"posted-{backend}.json"
            with worker(env, workdir / f"worker-b-{backend}.log"):
                asyncio.run(worker_ready(url))
                fixed = load([*common, "open", "--rate", str(args.rate), "--duration", str(args.fixed_seconds),
                              "--customers", customers, "--prefix", "lat", "--first", "0",
                              "--posted", str(posted_file)])  # fmt: skip
                posted: dict[str, float] = json.loads(posted_file.read_text())
                seen = asyncio.run(wait_arrivals(standin, set(posted), timeout=30))
            latencies = [seen[tag] - posted[tag] for tag in seen]
            missing = len(posted) - len(seen)
            ok &= missing == 0 and fixed["failures"] == 0
            asyncio.run(cancel_backlog(url))
            # C. One worker, pacing off, against a backlog; then the bare loop to the same stand-in.
            asyncio.run(backlog(url, args.messages, args.customers))
            env_c = dict(env, LOKET_OUTBOUND_PACING="false")
            with worker(env_c, workdir / f"worker-c-{backend}.log"):
                asyncio.run(worker_ready(url))
                sent, span = asyncio.run(drained(url, args.messages, timeout=args.messages / 50 + 60))
            ok &= sent == args.messages
            bare = json.loads(
                subprocess.run(
                    [sys.executable, str(BENCH / "bare_send.py"), standin, str(args.messages)],
                    capture_output=True, text=True, check=True, cwd=ROOT,
                ).stdout.strip().splitlines()[-1]
            )  # fmt: skip
        base_argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH), "events_baseline:app", "--host",
                     "127.0.0.1", "--port", str(base_port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
        with server(base_argv, base_port):
            base_single = load([f"http://127.0.0.1:{base_port}", TENANT, secret, "closed", "--concurrency", "32",
                                "--duration", str(args.duration), "--customers", customers])  # fmt: skip
    rate_c = sent / span if span == span and span > 0 else float("nan")
    print(
        f"{backend:<11} A events/s: single {single['events_per_s']:>7,.0f} (p99 {single['p99_ms']:.0f} ms; "
        f"bare stack {base_single['events_per_s']:,.0f}), batches of 100 {batch['events_per_s']:>7,.0f}"
    )
    print(
        f"{'':<11} B at {fixed['rate']:,.0f} events/s: event-to-send p50 {pct(latencies, 0.5):,.0f} ms, "
        f"p99 {pct(latencies, 0.99):,.0f} ms, {missing} missing; API p99 {fixed['p99_ms']:.0f} ms"
    )
    print(
        f"{'':<11} C one worker, pacing off: {rate_c:>7,.0f} messages/s ({sent}/{args.messages} sent) | "
        f"bare aiohttp loop, concurrency 64: {bare['messages_per_s']:,.0f}/s  "
        f"ratio {rate_c / bare['messages_per_s']:.2f}  {'ok' if ok else 'MISMATCH'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny run that checks the benchmark works")
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each closed-loop run")
    parser.add_argument("--rate", type=float, default=500.0, help="events/s of the latency run")
    parser.add_argument("--fixed-seconds", type=float, default=10.0)
    parser.add_argument("--messages", type=int, default=20000, help="backlog for the dispatch run")
    parser.add_argument("--customers", type=int, default=5000)
    args = parser.parse_args()
    if args.smoke:
        args.duration, args.rate, args.fixed_seconds = 1.0, 50.0, 1.0
        args.messages, args.customers = 300, 200
    print(
        f"outbound engine: {args.customers:,} customers; A closed loop {args.duration:.0f}s; "
        f"B open loop {args.rate:.0f} events/s for {args.fixed_seconds:.0f}s; C backlog {args.messages:,}"
    )
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            failures += 0 if run_backend(backend, args, Path(tmp)) else 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
