"""Bot turn latency: from an inbound message stored in the inbox to the reply in the outbox.

Each turn stores one pending inbound message (committed), then times the processor handling it:
finding the customer, locking the conversation row, binding the customer through CorePort, the
engine (classifier, entities, journey, demo core), queueing the read receipt and the replies and
saving the state, up to the commit. The same pipeline with a no-op journey (a fixed reply, no
understanding) runs in the same process as the baseline. The demo core is in memory, so the figures
are Loket's own cost; a real core adds its network round trips.

The message mix is what customers write most: greetings, menu, balance and mutations (the customer
is already elevated, so the journey runs), help, education, product info, official-channel and
scam checks, thanks. E-statements (PDF rendering and encryption) are timed on their own.

    python bench/bot_turn.py                          # 10,000 turns per backend and pipeline
    python bench/bot_turn.py --smoke                  # a few hundred, checks that it runs
    python bench/bot_turn.py --backend sqlite --turns 2000
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import delete, update

from benchlib import MASTER_KEY, temp_database
from loket.channel.outgoing import Text
from loket.clock import system_clock
from loket.conversation.engine import ConversationEngine
from loket.conversation.turn import Turn, TurnResult
from loket.core.demo.institution import DemoCore
from loket.db.engine import Database
from loket.db.migrate import upgrade
from loket.db.models import Conversation, InboundMessage, OutboxMessage
from loket.db.scope import OPERATOR
from loket.demo import seed_summary, seed_tenants
from loket.inbox.conversation_handler import ConversationHandler
from loket.inbox.processor import InboxProcessor
from loket.security.keys import MasterKeyring
from loket.security.keystore import KeyStore
from loket.security.secretbox import SecretBox
from loket.tenancy.directory import PhoneDirectory
from loket.understanding import default_model

BANK = "bank-nusantara"
MIX = (
    "halo",
    "menu",
    "sldo brp ya",
    "cek mutasi dong",
    "mutasi bulan lalu",
    "bisa bantu apa aja?",
    "tips menabung",
    "bunga KTA berapa?",
    "is bank-nusantara-promo.com yours?",
    "ada yg minta otp ngaku dari bank, katanya dapat hadiah",
    "english please",
    "makasih 🙏",
)
STATEMENT = "minta rekening koran bulan lalu"


class NoOpEngine:
    """The baseline journey: a fixed reply, no understanding, no core call."""

    async def handle(self, turn: Turn) -> TurnResult:
        return TurnResult(replies=[Text(body="ok")], state=dict(turn.state), language=turn.language)


@dataclass
class Result:
    backend: str
    pipeline: str
    turns: int
    p50_ms: float
    p99_ms: float


async def _prepare(url: str) -> tuple[Database, DemoCore, list[dict[str, Any]], SecretBox]:
    db = Database(url, default_scope=OPERATOR)
    await upgrade(db)
    box = SecretBox(_key())
    await seed_tenants(db, box)
    core = DemoCore.generate(system_clock)
    customers = [c for c in (await seed_summary(core))["customers"] if c["tenant_id"] == BANK]
    return db, core, customers, box


def _key() -> bytes:
    import base64

    return base64.urlsafe_b64decode(MASTER_KEY + "=" * (-len(MASTER_KEY) % 4))


async def _elevate(db: Database, customers: list[dict[str, Any]]) -> None:
    """Every customer passed a step-up a moment ago, so balance and mutation turns run the journey."""
    async with db.transaction() as session:
        await session.execute(delete(Conversation))
        now = system_clock.now()
        for customer in customers:
            session.add(
                Conversation(
                    tenant_id=BANK,
                    wa_id=customer["wa_id"],
                    customer_id=customer["customer_id"],
                    language="id",
                    state={
                        "elevated": {
                            "customer_id": customer["customer_id"],
                            "until": (now + timedelta(days=1)).isoformat(),
                        }
                    },
                    last_inbound_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )


async def _run(
    db: Database,
    processor: InboxProcessor,
    customers: list[dict[str, Any]],
    texts: tuple[str, ...],
    turns: int,
    tag: str,
) -> list[float]:
    pnid = customers[0]["phone_number_id"]
    timings: list[float] = []
    counter = itertools.count()
    for index in range(turns):
        customer = customers[index % len(customers)]
        text = texts[index % len(texts)]
        now = datetime.now(UTC)
        async with db.transaction() as session:
            session.add(
                InboundMessage(
                    wamid=f"wamid.bench.{tag}.{next(counter)}",
                    tenant_id=BANK,
                    phone_number_id=pnid,
                    wa_id=customer["wa_id"],
                    kind="text",
                    text=text,
                    reply_id=None,
                    payload={"type": "text", "text": {"body": text}},
                    profile_name=None,
                    meta_timestamp=int(now.timestamp()),
                    received_at=now,
                    state="pending",
                    attempts=0,
                )
            )
        started = time.perf_counter()
        handled = await processor.run_once()
        timings.append((time.perf_counter() - started) * 1000)
        assert handled == 1, f"turn {index} handled {handled} messages"
        if index % 500 == 499:  # keep the outbox from growing without bound, as the dispatcher would
            async with db.transaction() as session:
                await session.execute(update(OutboxMessage).values(state="sent"))
    return timings


def _summary(backend: str, pipeline: str, timings: list[float]) -> Result:
    ordered = sorted(timings)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return Result(backend, pipeline, len(timings), statistics.median(ordered), p99)


async def bench(url: str, backend: str, turns: int, statements: int) -> list[Result]:
    results = []
    db, core, customers, box = await _prepare(url)
    try:
        directory = PhoneDirectory(db, box)
        await directory.refresh()
        pipelines: list[tuple[str, Any, tuple[str, ...], int]] = [
            ("no-op journey (baseline)", NoOpEngine(), MIX, turns),
            ("conversation engine", ConversationEngine(core), MIX, turns),
            ("e-statement (PDF, AES-256)", ConversationEngine(core), (STATEMENT,), statements),
        ]
        for name, engine, texts, count in pipelines:
            if count == 0:
                continue
            await _elevate(db, customers)
            handler = ConversationHandler(dialect=db.dialect, directory=directory, core=core, engine=engine, box=box)
            processor = InboxProcessor(db, handler, keys=KeyStore(MasterKeyring(_key()), dialect=db.dialect))
            await _run(db, processor, customers, texts, min(50, count), f"{name[:4]}-warm")
            timings = await _run(db, processor, customers, texts, count, name[:4])
            results.append(_summary(backend, name, timings))
    finally:
        await db.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--turns", type=int, default=None)
    args = parser.parse_args()
    turns = args.turns or (200 if args.smoke else 10_000)
    statements = 20 if args.smoke else 300
    default_model()  # train the classifier before timing anything
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    sys.stdout.write("| backend | pipeline | turns | p50 ms | p99 ms |\n|---|---|---:|---:|---:|\n")
    worst = 0.0
    for backend in backends:
        with temp_database(backend) as url:
            results = asyncio.run(bench(url, backend, turns, statements))
        for result in results:
            row = (result.backend, result.pipeline, str(result.turns), f"{result.p50_ms:.2f}", f"{result.p99_ms:.2f}")
            sys.stdout.write("| " + " | ".join(row) + " |\n")
            sys.stdout.flush()
            if result.pipeline == "conversation engine":
                worst = max(worst, result.p99_ms)
    sys.stdout.write(f"\nconversation engine p99, worst backend: {worst:.2f} ms (goal < 50 ms)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
