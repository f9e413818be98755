"""Load for the events API, signed per request, from its own process. Prints one JSON line.

    python bench/events_load.py URL TENANT SECRET closed --concurrency 32 --duration 10 --batch 1
    python bench/events_load.py URL TENANT SECRET open --rate 500 --duration 10 --posted posted.json

Event `n` is a `transaction.posted` for customer BENCH-(n mod customers), tagged "bench:<id>" in
its description so the Graph stand-in can tell when its alert arrived. `open` posts single events
at a fixed rate whatever the latency, and writes when each was posted (for event-to-send latency).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import time

import aiohttp


def event(prefix: str, n: int, customers: int) -> dict[str, object]:
    c = n % customers
    event_id = f"{prefix}-{n}"
    return {
        "id": event_id,
        "type": "transaction.posted",
        "occurred_at": "2026-11-30T10:15:00+07:00",
        "customer_id": f"BENCH-{c:06d}",
        "data": {
            "account_id": f"ACC-{c:06d}",
            "transaction_id": f"T-{event_id}",
            "direction": "debit",
            "amount": 10_000 + n % 1000,
            "description": f"bench:{event_id}",
            "balance_after": 1_000_000,
        },
    }


def headers(tenant: str, secret: bytes, body: bytes) -> dict[str, str]:
    stamp = int(time.time())
    mac = hmac.new(secret, str(stamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Loket-Tenant": tenant, "X-Loket-Signature": f"t={stamp},v1={mac}"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0


async def closed(args: argparse.Namespace, secret: bytes) -> dict[str, object]:
    latencies: list[float] = []
    failures = accepted = 0
    counter = iter(range(args.first, args.first + args.count if args.count else 10**9))
    url = args.url + ("/v1/events/batch" if args.batch > 1 else "/v1/events")
    stop = time.perf_counter() + args.duration
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.concurrency)) as http:

        async def worker() -> None:
            nonlocal failures, accepted
            while time.perf_counter() < stop:
                items = [
                    event(args.prefix, n, args.customers) for n, _ in zip(counter, range(args.batch), strict=False)
                ]
                if not items:
                    return
                body = json.dumps({"events": items} if args.batch > 1 else items[0]).encode()
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers(args.tenant, secret, body)) as resp:
                    answer = await resp.json()
                latencies.append(time.perf_counter() - started)
                if args.batch > 1:
                    accepted += int(answer.get("accepted", 0)) if resp.status == 200 else 0
                    failures += len(items) - (int(answer.get("accepted", 0)) if resp.status == 200 else 0)
                elif resp.status == 202:
                    accepted += 1
                else:
                    failures += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - began
    return {
        "accepted": accepted,
        "failures": failures,
        "elapsed": elapsed,
        "events_per_s": accepted / elapsed,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
    }


async def opened(args: argparse.Namespace, secret: bytes) -> dict[str, object]:
    total = int(args.rate * args.duration)
    posted: dict[str, float] = {}
    latencies: list[float] = []
    failures = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as http:

        async def one(n: int) -> None:
            nonlocal failures
            item = event(args.prefix, args.first + n, args.customers)
            body = json.dumps(item).encode()
            posted[str(item["id"])] = time.time()
            started = time.perf_counter()
            try:
                async with http.post(
                    args.url + "/v1/events", data=body, headers=headers(args.tenant, secret, body)
                ) as resp:
                    await resp.read()
                    failures += resp.status != 202
            except aiohttp.ClientError:
                failures += 1
            latencies.append(time.perf_counter() - started)

        tasks = []
        began = time.perf_counter()
        for n in range(total):
            delay = began + n / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    if args.posted:
        with open(args.posted, "w") as handle:
            json.dump(posted, handle)
    return {
        "posted": total,
        "failures": failures,
        "rate": total / elapsed,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("tenant")
    parser.add_argument("secret")
    parser.add_argument("mode", choices=["closed", "open"])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--prefix", default="ld")
    parser.add_argument("--posted", default=None)
    parser.add_argument("--count", type=int, default=0, help="closed: stop after this many events (0: the duration)")
    args = parser.parse_args()
    work = closed if args.mode == "closed" else opened
    result = asyncio.run(work(args, args.secret.encode()))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
