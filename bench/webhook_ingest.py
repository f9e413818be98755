"""Webhook ingest throughput: signed envelopes posted by a separate process (wrk) for N seconds.

For each database (SQLite, PostgreSQL) and each payload (one text message per envelope; ten
statuses per envelope) it starts `loket serve` as a real process, loads it with wrk, and prints
envelopes/s and p50/p99 latency beside a baseline measured in the same run: the same server stack
(uvicorn + Starlette) answering 200 without work. Then it checks that every distinct envelope
posted was stored.

    python bench/webhook_ingest.py                 # 30 s per run, both databases
    python bench/webhook_ingest.py --smoke         # a few seconds, checks that it runs
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from benchlib import APP_SECRET, MASTER_KEY, ROOT, WrkResult, free_port, loket_env, run_wrk, server, temp_database
from loket.db.engine import Database
from loket.db.migrate import upgrade
from loket.db.models import InboundMessage, MessageStatus
from loket.db.scope import OPERATOR
from loket.demo import seed_tenants
from loket.security.secretbox import SecretBox

BANK_PNID = "114208873300501"  # Bank Nusantara's demo number
CUSTOMERS = [f"62812{n:08d}" for n in range(200)]


def template(kind: str) -> tuple[str, list[str]]:
    """A %-format body and the placeholder kinds in order; Lua's string.format renders it identically."""
    now = str(int(time.time()))
    value: dict[str, object] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "628111500123", "phone_number_id": BANK_PNID},
    }
    if kind == "message":
        value["contacts"] = [{"profile": {"name": "Pelanggan Bench"}, "wa_id": "@WA@"}]
        value["messages"] = [
            {"from": "@WA@", "id": "wamid.BENCHM@ID@", "timestamp": now, "type": "text", "text": {"body": "halo @ID@"}}
        ]
    else:
        value["statuses"] = [
            {
                "id": f"wamid.BENCHS@ID@_{k}",
                "status": "delivered",
                "timestamp": now,
                "recipient_id": "628120000000",
                "biz_opaque_callback_data": "@ID@",
                "pricing": {
                    "billable": False,
                    "pricing_model": "PMP",
                    "category": "service",
                    "type": "free_customer_service",
                },
            }
            for k in range(10)
        ]
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102938475610293", "changes": [{"field": "messages", "value": value}]}],
    }
    raw = json.dumps(envelope, separators=(",", ":"))
    order = []
    for token in raw.split("@")[1::2]:
        order.append(token.lower())
    return raw.replace("@WA@", "%s").replace("@ID@", "%d"), order


def args_for(order: list[str], n: int) -> tuple[object, ...]:
    return tuple(CUSTOMERS[n % len(CUSTOMERS)] if kind == "wa" else n for kind in order)


def write_lua(path: Path, kind: str, count: int) -> None:
    tpl, order = template(kind)
    secret = APP_SECRET.encode()
    sigs = [hmac.new(secret, (tpl % args_for(order, n)).encode(), hashlib.sha256).hexdigest() for n in range(count)]
    lua_args = ", ".join("wa[(i % #wa) + 1]" if kind == "wa" else "i" for kind in order)
    with path.open("w") as out:
        out.write(f"local tpl = {json.dumps(tpl)}\n")
        out.write("local wa = {" + ",".join(json.dumps(c) for c in CUSTOMERS) + "}\n")
        out.write("local sigs = {" + ",".join(f'"{s}"' for s in sigs) + "}\n")
        out.write(
            "local n = -1\n"
            "request = function()\n"
            f"  n = (n + 1) % {count}\n"
            "  local i = n\n"
            f"  local body = string.format(tpl, {lua_args})\n"
            '  return wrk.format("POST", "/webhooks/whatsapp", {["Content-Type"]="application/json", '
            '["X-Hub-Signature-256"]="sha256=" .. sigs[n + 1]}, body)\n'
            "end\n"
        )


async def prepare(database_url: str) -> None:
    db = Database(database_url, default_scope=OPERATOR)
    try:
        await upgrade(db)
        await seed_tenants(db, SecretBox(__import__("base64").urlsafe_b64decode(MASTER_KEY)))
    finally:
        await db.dispose()


async def stored(database_url: str) -> tuple[int, int]:
    db = Database(database_url, default_scope=OPERATOR)
    try:
        async with db.sessions() as session:
            messages = (await session.execute(select(func.count()).select_from(InboundMessage))).scalar_one()
            statuses = (await session.execute(select(func.count()).select_from(MessageStatus))).scalar_one()
            return int(messages), int(statuses)
    finally:
        await db.dispose()


def write_jsonl(path: Path, kind: str, first: int, count: int) -> None:
    tpl, order = template(kind)
    secret = APP_SECRET.encode()
    with path.open("w") as out:
        for n in range(first, first + count):
            body = tpl % args_for(order, n)
            signature = "sha256=" + hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
            out.write(json.dumps([body, signature]) + "\n")


def open_loop(url: str, bodies: Path, rate: float, seconds: float) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "loadgen.py"), url, str(bodies), str(rate), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


@dataclass
class Run:
    wrk: WrkResult
    fixed: dict[str, float]


def load(url: str, script: Path, bodies: Path, args: argparse.Namespace) -> Run:
    result = run_wrk(url, script, duration=args.duration, connections=args.connections)
    return Run(result, open_loop(url, bodies, args.rate, args.fixed_seconds))


def measure(backend: str, kind: str, args: argparse.Namespace, workdir: Path) -> tuple[Run, Run, bool]:
    count = int(args.duration * 8000) + 1000
    fixed_count = int(args.rate * args.fixed_seconds)
    script = workdir / f"{kind}.lua"
    bodies = workdir / f"{kind}.jsonl"
    write_lua(script, kind, count)
    write_jsonl(bodies, kind, count, fixed_count)
    port = free_port()
    with temp_database(backend) as url:
        asyncio.run(prepare(url))
        argv = [sys.executable, "-m", "loket.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        with server(argv, port, env=loket_env(url)):
            loket = load(f"http://127.0.0.1:{port}/webhooks/whatsapp", script, bodies, args)
        messages, statuses = asyncio.run(stored(url))
    posted = min(loket.wrk.requests, count) + fixed_count - int(loket.fixed["failures"])
    per = 1 if kind == "message" else 10
    got = messages if kind == "message" else statuses
    # wrk stops mid-request at the deadline: those few were answered after it stopped counting.
    ok = (
        loket.wrk.non_2xx == 0
        and loket.fixed["failures"] == 0
        and posted * per <= got <= (posted + args.connections) * per
    )
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(ROOT / "bench"),
        "baseline_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with server(argv, port, env=None, ready_path="/readyz"):
        baseline = load(f"http://127.0.0.1:{port}/webhooks/whatsapp", script, bodies, args)
    return loket, baseline, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny run that checks the benchmark works")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--kinds", default="message,status")
    parser.add_argument("--rate", type=float, default=2000.0, help="envelopes/s of the fixed-rate latency run")
    parser.add_argument("--fixed-seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.smoke:
        args.duration, args.rate, args.fixed_seconds = 2.0, 200.0, 1.0
    failures = 0
    print(
        f"webhook ingest, one `loket serve` process: max rate = wrk -t1 -c{args.connections} -d{args.duration:.0f}s "
        f"(closed loop); latency = open loop at {args.rate:.0f} envelopes/s for {args.fixed_seconds:.0f}s"
    )
    print(
        f"{'database':<11}{'payload':<22}{'max env/s':>10}{'p50':>6}{'p99':>6}  {'@rate p50':>9}{'p99':>6}  |"
        f"{'baseline/s':>11}{'p50':>6}{'p99':>6}  {'@rate p50':>9}{'p99':>6}  {'ratio':>5}  stored"
    )
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, str(ROOT / "bench"))
        for backend in args.backends.split(","):
            for kind in args.kinds.split(","):
                loket, base, ok = measure(backend, kind, args, Path(tmp))
                label = "1 message/envelope" if kind == "message" else "10 statuses/envelope"
                ratio = loket.wrk.requests_per_second / base.wrk.requests_per_second
                print(
                    f"{backend:<11}{label:<22}{loket.wrk.requests_per_second:>10,.0f}{loket.wrk.p50_ms:>6.1f}"
                    f"{loket.wrk.p99_ms:>6.1f}  {loket.fixed['p50_ms']:>9.1f}{loket.fixed['p99_ms']:>6.1f}  |"
                    f"{base.wrk.requests_per_second:>11,.0f}{base.wrk.p50_ms:>6.1f}{base.wrk.p99_ms:>6.1f}  "
                    f"{base.fixed['p50_ms']:>9.1f}{base.fixed['p99_ms']:>6.1f}  {ratio:>5.2f}  "
                    f"{'ok' if ok else 'MISMATCH'}"
                )
                failures += 0 if ok else 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
