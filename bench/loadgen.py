"""Open-loop load: POST signed bodies at a fixed rate, whatever the server's latency, and report
latency percentiles. Run as its own process so it does not share an event loop with the server.

    python bench/loadgen.py URL BODIES.jsonl RATE SECONDS
Each line of BODIES.jsonl is ["<body>", "<signature header>"]. Prints one JSON line of results.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp


async def main(url: str, path: str, rate: float, seconds: float) -> None:
    with open(path) as handle:
        bodies = [json.loads(line) for line in handle]
    latencies: list[float] = []
    failures = 0
    total = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(index: int) -> None:
            nonlocal failures
            body, signature = bodies[index % len(bodies)]
            started = time.perf_counter()
            try:
                async with http.post(
                    url,
                    data=body.encode(),
                    headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
                ) as resp:
                    await resp.read()
                    if resp.status != 200:
                        failures += 1
            except aiohttp.ClientError:
                failures += 1
            latencies.append(time.perf_counter() - started)

        tasks = []
        start = time.perf_counter()
        for index in range(total):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0

    result = {"sent": total, "failures": failures, "rate": total / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99)}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
