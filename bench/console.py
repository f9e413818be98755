"""The staff console under load: the inbox page's server time and the live delay of a new waiting
chat, with 100,000 conversations in the database and 200 agents' live SSE connections open on one
server process.

One `loket demo`-style server process (webhook, processing, dispatch to the sandbox, console) runs on
a database holding 100,000 conversations and their handoffs (95% closed, 2% waiting, 3% being served
by 200 agents). The bench opens the 200 agents' event streams (`/console/inbox/events`), then:

- **inbox**: GETs `/console/inbox` (tabs all, waiting, mine, as different agents, 4 at a time) and
  times each answer; the **baseline** is the console's static stylesheet from the same process, in
  the same run, under the same open streams.
- **live delay**: posts signed webhooks (a new customer writing "saya mau bicara dengan CS") one at a
  time to `/webhooks/whatsapp`, and times from the POST to the `handoff.created` event on every one
  of the 200 streams (stored, processed, committed, announced, fanned out).

    python bench/console.py                         # 100,000 conversations, 200 agents, sqlite
    python bench/console.py --backend postgresql
    python bench/console.py --smoke                 # tiny sizes: checks that it runs
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from sqlalchemy import insert

from benchlib import APP_SECRET, MASTER_KEY, ROOT, free_port, temp_database
from loket.db.engine import Database
from loket.db.migrate import upgrade
from loket.db.models import Conversation
from loket.db.scope import SystemReason, system_scope
from loket.demo import seed_tenants
from loket.dialogue.tables import Handoff
from loket.security.secretbox import SecretBox
from loket.staff.sessions import new_token, token_digest
from loket.staff.tables import StaffMembership, StaffSession, StaffUser

BANK = "bank-nusantara"
REASONS = ("asked", "complaint", "card_blocked", "fraud_report", "unknown_intent")
CHUNK = 5000


def _master_key_bytes() -> bytes:
    import base64

    return base64.urlsafe_b64decode(MASTER_KEY + "=" * (-len(MASTER_KEY) % 4))


async def seed(url: str, conversations: int, agents: int) -> tuple[list[str], str]:
    """The tenants, `conversations` conversations with one handoff each, `agents` signed-in agents.
    Returns the agents' session tokens and the bank's phone_number_id."""
    db = Database(url)
    now = datetime.now(UTC)
    rng = random.Random(7)
    try:
        with system_scope(SystemReason.DEMO_SEED):
            await upgrade(db)
            await seed_tenants(db, SecretBox(_master_key_bytes()))
            tokens: list[str] = []
            users: list[dict[str, Any]] = []
            sessions: list[dict[str, Any]] = []
            members: list[dict[str, Any]] = []
            for index in range(agents):
                user_id = f"benchagent{index:05d}"
                users.append(
                    {
                        "id": user_id,
                        "email": f"agent{index}@bench.example",
                        "display_name": f"Agen {index}",
                        "password_hash": "-",
                        "must_change_password": False,
                        "password_changed_at": now,
                        "totp_confirmed_at": now,
                        "status": "active",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                members.append({"user_id": user_id, "tenant_id": BANK, "role": "agent", "created_at": now})
                token = new_token()
                tokens.append(token)
                sessions.append(
                    {
                        "id": f"benchsession{index:05d}",
                        "token_sha256": token_digest(token),
                        "user_id": user_id,
                        "tenant_id": BANK,
                        "state": "active",
                        "created_at": now,
                        "last_seen_at": now,
                        "expires_at": now + timedelta(hours=8),
                        "totp_failures": 0,
                    }
                )
            async with db.transaction() as session:
                await session.execute(insert(StaffUser), users)
                await session.execute(insert(StaffMembership), members)
                await session.execute(insert(StaffSession), sessions)
            agent_ids = [u["id"] for u in users]
            for start in range(0, conversations, CHUNK):
                size = min(CHUNK, conversations - start)
                conv_rows, handoff_rows = [], []
                for offset in range(size):
                    number = start + offset
                    wa_id = f"6285{number:09d}"
                    created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
                    conv_rows.append(
                        {
                            "tenant_id": BANK,
                            "wa_id": wa_id,
                            "language": "id",
                            "state": {},
                            "last_inbound_at": created,
                            "created_at": created,
                            "updated_at": created,
                        }
                    )
                    roll = rng.random()
                    status = "waiting" if roll < 0.02 else "active" if roll < 0.05 else "closed"
                    assigned = rng.choice(agent_ids) if status != "waiting" and agent_ids else None
                    handoff_rows.append(
                        {
                            "tenant_id": BANK,
                            "phone_number_id": "0",
                            "wa_id": wa_id,
                            "language": "id",
                            "reason": rng.choice(REASONS),
                            "summary": "bench",
                            "status": status,
                            "assigned_to": assigned,
                            "created_at": created,
                            "first_reply_at": created + timedelta(minutes=2) if status != "waiting" else None,
                            "closed_at": created + timedelta(minutes=20) if status == "closed" else None,
                        }
                    )
                async with db.transaction() as session:
                    await session.execute(insert(Conversation), conv_rows)
                    await session.execute(insert(Handoff), handoff_rows)
    finally:
        await db.dispose()
    from loket.core.demo.tenants import DEMO_TENANTS

    pnid = next(t.phone_number.phone_number_id for t in DEMO_TENANTS if t.tenant_id == BANK)
    return tokens, pnid


def serve(port: int, url: str, var_dir: str) -> None:
    """The server process: the demo assembly (webhook, processor, dispatcher, sandbox, console)."""
    import uvicorn

    from loket.clock import system_clock
    from loket.core.demo.institution import DemoCore
    from loket.demo import demo_settings
    from loket.demo_server import build_demo_app, prepare_demo

    settings = demo_settings(
        "127.0.0.1",
        port,
        database_url=url,
        var_dir=var_dir,
        master_key=MASTER_KEY,
        meta_app_secret=APP_SECRET,
        log_level="WARNING",
    )
    asyncio.run(prepare_demo(settings))
    app = build_demo_app(settings, DemoCore.generate(system_clock))
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def envelope(pnid: str, wa_id: str, wamid: str) -> bytes:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "bench-waba",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "0", "phone_number_id": pnid},
                            "contacts": [{"profile": {"name": "Bench"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": "saya mau bicara dengan CS"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body).encode()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


class Stream:
    """One agent's event stream; records when each handoff.created event arrives."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        self.ready = asyncio.Event()

    async def run(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        headers = {"Cookie": f"__Host-loket_session={token}"}
        async with http.get(f"{base}/console/inbox/events", headers=headers, timeout=aiohttp.ClientTimeout()) as resp:
            assert resp.status == 200, resp.status
            while True:
                chunk = await resp.content.readuntil(b"\n\n")
                if b"connected" in chunk:
                    self.ready.set()
                if chunk.startswith(b"event: inbox"):
                    data = json.loads(chunk.split(b"data: ", 1)[1])
                    if data.get("kind") == "handoff.created":
                        self.arrivals[int(data["handoff_id"])] = time.perf_counter()


async def timed_get(http: aiohttp.ClientSession, url: str, token: str) -> tuple[float, float]:
    """(server time from the Server-Timing header, round trip seen by the client), in ms."""
    started = time.perf_counter()
    async with http.get(url, headers={"Cookie": f"__Host-loket_session={token}"}, allow_redirects=False) as resp:
        await resp.read()
        assert resp.status == 200, (url, resp.status)
        timing = resp.headers.get("Server-Timing", "app;dur=nan")
    return float(timing.split("dur=", 1)[1]), (time.perf_counter() - started) * 1000


async def measure(
    base: str, tokens: list[str], pnid: str, *, requests: int, messages: int, concurrency: int
) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        streams = [Stream() for _ in tokens]
        tasks = [asyncio.create_task(s.run(http, base, t)) for s, t in zip(streams, tokens, strict=True)]
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in streams)), timeout=120)

        async def load(path_of: Any, count: int) -> tuple[list[float], list[float]]:
            server: list[float] = []
            client: list[float] = []
            queue = list(range(count))

            async def worker() -> None:
                while queue:
                    index = queue.pop()
                    path = path_of(index)
                    spent, seen = await timed_get(http, base + path, tokens[index % len(tokens)])
                    server.append(spent)
                    client.append(seen)
                    by_path.setdefault(path, []).append(spent)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return server, client

        tabs = ("all", "waiting", "mine")
        by_path: dict[str, list[float]] = {}
        await load(lambda i: "/console/static/console.css", 20)  # warm-up
        await load(lambda i: f"/console/inbox?tab={tabs[i % 3]}", 20)
        baseline, baseline_client = await load(lambda i: "/console/static/console.css", requests)
        by_path.clear()
        inbox, inbox_client = await load(lambda i: f"/console/inbox?tab={tabs[i % 3]}", requests)
        per_tab = {path.rsplit("=", 1)[1]: times for path, times in by_path.items() if "tab=" in path}

        delays: list[float] = []  # every stream's delay for every message
        worst: list[float] = []  # per message: the slowest of the streams
        for number in range(-1, messages):  # -1: warm-up (the first turn loads the intent model)
            body = envelope(
                pnid, f"6289{os.getpid() % 1000:03d}{number + 1:06d}", f"wamid.bench.{os.getpid()}.{number}"
            )
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            known = {h for s in streams for h in s.arrivals}
            sent = time.perf_counter()
            async with http.post(
                f"{base}/webhooks/whatsapp",
                data=body,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            ) as resp:
                assert resp.status == 200, resp.status
            deadline = sent + 10
            new_id = None
            while time.perf_counter() < deadline:
                fresh = {h for h in streams[0].arrivals if h not in known}
                if fresh and all(next(iter(fresh)) in s.arrivals for s in streams):
                    new_id = next(iter(fresh))
                    break
                await asyncio.sleep(0.005)
            if new_id is None:
                raise RuntimeError(f"message {number}: no handoff.created on every stream within 10 s")
            per_stream = [(s.arrivals[new_id] - sent) * 1000 for s in streams]
            if number >= 0:
                delays.extend(per_stream)
                worst.append(max(per_stream))
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "baseline": baseline,
        "inbox": inbox,
        "baseline_client": baseline_client,
        "inbox_client": inbox_client,
        "delays": delays,
        "worst": worst,
        "per_tab": per_tab,
    }


def run(
    backend: str, conversations: int, agents: int, requests: int, messages: int, concurrency: int
) -> dict[str, Any]:
    with temp_database(backend) as url, tempfile.TemporaryDirectory(prefix="loket-bench-var-") as var_dir:
        started = time.perf_counter()
        tokens, pnid = asyncio.run(seed(url, conversations, agents))
        seeded = time.perf_counter() - started
        port = free_port()
        env = dict(os.environ, LOKET_LOG_LEVEL="WARNING")
        argv = [sys.executable, str(Path(__file__).resolve()), "--serve", str(port), url, var_dir]
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"the server did not start: {err[-3000:]}")
                time.sleep(0.2)
            result = asyncio.run(
                measure(
                    f"http://127.0.0.1:{port}",
                    tokens,
                    pnid,
                    requests=requests,
                    messages=messages,
                    concurrency=concurrency,
                )
            )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    result["seeded_seconds"] = seeded
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4, help="inbox requests in flight at once")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks that it runs")
    parser.add_argument("--serve", nargs=3, metavar=("PORT", "URL", "VAR_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1], args.serve[2])
        return 0
    if args.smoke:
        args.conversations, args.agents, args.requests, args.messages = 500, 5, 30, 3
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"{args.conversations} conversations, {args.agents} agents' SSE streams open, one server process")
    print("| backend | measured | n | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---:|---:|---:|---:|")
    ok = True
    for backend in backends:
        result = run(backend, args.conversations, args.agents, args.requests, args.messages, args.concurrency)
        rows = (
            ("static page (baseline), server time", result["baseline"]),
            ("inbox page, server time", result["inbox"]),
            ("static page (baseline), round trip", result["baseline_client"]),
            ("inbox page, round trip", result["inbox_client"]),
            ("live delay, every stream", result["delays"]),
            ("live delay, slowest stream per message", result["worst"]),
        )
        for label, values in rows:
            print(
                f"| {backend} | {label} | {len(values)} | {statistics.median(values):.1f} | "
                f"{pct(values, 0.95):.1f} | {pct(values, 0.99):.1f} |"
            )
        inbox_ok = pct(result["inbox"], 0.95) < 200
        live_ok = pct(result["delays"], 0.95) < 1000
        ok = ok and inbox_ok and live_ok
        for tab, times in sorted(result["per_tab"].items()):
            print(
                f"{backend}: inbox tab {tab}: server time p50 {statistics.median(times):.1f} ms, "
                f"p95 {pct(times, 0.95):.1f} ms"
            )
        load = os.getloadavg()[0]
        print(
            f"{backend}: seeded in {result['seeded_seconds']:.0f} s; load average {load:.1f} on {os.cpu_count()} CPUs; "
            f"goals inbox p95 < 200 ms "
            f"{'met' if inbox_ok else 'MISSED'}, live delay p95 < 1 s {'met' if live_ok else 'MISSED'}"
        )
    return 0 if ok or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
