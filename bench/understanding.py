"""Micro-benchmark of the understanding layer and the secret shield, one message at a time.

Reports training time and p50/p99 latency per message of: intent classification (the fast scorer),
the same through scikit-learn's own predict_proba (the baseline the fast scorer replaces), entity
extraction, the inbound secret scan and the outbound request check.

    python bench/understanding.py            # 20,000 messages per measurement
    python bench/understanding.py --smoke    # a few hundred, checks that it runs
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from loket.security.dlp import scan
from loket.security.dlp_outbound import asks_for_secret
from loket.understanding.entities import extract
from loket.understanding.evaluate import load_eval
from loket.understanding.model import load_model

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
EXTRA = (
    "kode OTP 123456 jangan kasih siapa2",
    "kartu saya 4111 1111 1111 1111 cvv 123",
    "transfer 150000 ke rek 1234567890 kemarin belum masuk",
    "mutasi 1-15 nov buat kartu kredit yang 1234",
    "nomor 0812-3456-7890 ini resmi? katanya dari bank-nusantara-promo.com",
)


def measure(name: str, messages: list[str], count: int, work: Callable[[str], object]) -> None:
    for message in messages[:50]:
        work(message)
    timings: list[float] = []
    for index in range(count):
        message = messages[index % len(messages)]
        started = time.perf_counter_ns()
        work(message)
        timings.append((time.perf_counter_ns() - started) / 1000)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    sys.stdout.write(f"| {name} | {count} | {p50:,.1f} | {p99:,.1f} |\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    count = 300 if args.smoke else 20_000
    messages = [row.text for row in load_eval(ROOT / "tests" / "data" / "intents_eval.tsv")] + list(EXTRA)

    started = time.perf_counter()
    model = load_model()
    sys.stdout.write(f"training: {time.perf_counter() - started:.2f} s\n\n")
    sys.stdout.write("| measurement | messages | p50 µs | p99 µs |\n|---|---:|---:|---:|\n")
    measure("classify (fast scorer)", messages, count, model.classify)
    measure("baseline: scikit-learn predict_proba", messages, max(count // 10, 100), lambda m: model.probabilities([m]))
    measure("extract entities", messages, count, lambda m: extract(m, NOW))
    measure("dlp.scan (inbound)", messages, count, scan)
    measure("asks_for_secret (outbound)", messages, count, asks_for_secret)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
