"""The fastest bare client loop: N text sends to the Graph stand-in with aiohttp at a fixed
concurrency, nothing else. The ceiling the dispatcher is compared with. Prints one JSON line.

    python bench/bare_send.py BASE_URL COUNT [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import aiohttp

from standin import PNID, TOKEN, wa_id


async def run(base: str, count: int, concurrency: int) -> dict[str, float]:
    url = f"{base}/v23.0/{PNID}/messages"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    queue = iter(range(count))
    failures = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def worker() -> None:
            nonlocal failures
            for n in queue:
                body = {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": wa_id(n % 5000),
                    "type": "text",
                    "text": {"body": f"bare {n}", "preview_url": False},
                    "biz_opaque_callback_data": str(n),
                }
                async with http.post(url, data=json.dumps(body), headers=headers) as resp:
                    await resp.read()
                    failures += resp.status != 200

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return {"sent": count, "failures": failures, "elapsed": elapsed, "messages_per_s": count / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("count", type=int)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(run(args.base, args.count, args.concurrency))) + "\n")


if __name__ == "__main__":
    main()
