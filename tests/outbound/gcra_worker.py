"""One process of the multi-process GCRA test: books slots on a shared Redis key and prints them.

Usage: gcra_worker.py REDIS_URL KEY RATE CLIENTS PER_CLIENT. Prints a JSON list of
[slot_at, sent_at]: the slot Redis granted (server clock) and when the client went (wall clock).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from loket.outbound.ratelimit_redis import RedisGcra


async def main(url: str, key: str, rate: float, clients: int, per_client: int) -> None:
    gcra = RedisGcra.from_url(url, timeout=5.0)
    sent: list[tuple[float, float]] = []

    async def client() -> None:
        for _ in range(per_client):
            booking = await gcra.book(key, rate)
            if booking.wait > 0:
                await asyncio.sleep(booking.wait)
            sent.append((booking.at, time.time()))

    try:
        await asyncio.gather(*(client() for _ in range(clients)))
    finally:
        await gcra.aclose()
    print(json.dumps(sent))


if __name__ == "__main__":
    url, key, rate, clients, per_client = sys.argv[1:6]
    asyncio.run(main(url, key, float(rate), int(clients), int(per_client)))
