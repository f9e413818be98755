"""Account notices: to all or a segment of a tenant's customers, fanned out in batches, through the
gate, with progress in the API."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from typing import Any
from unittest.mock import patch

import pytest
from events_support import BANK, START, Harness, make_harness
from rich.console import Console
from sqlalchemy import func, select, update

from loket.config import Settings
from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.outbound import notice_cli
from loket.outbound import notices as notices_module
from loket.outbound.notice_request import parse_request
from loket.outbound.notices import BULK_PRIORITY
from loket.outbound.tables import MessageTemplate, NoticeCampaign, Recipient
from support import TEST_MASTER_KEY

ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")


@pytest.fixture
async def harness(db: Database, settings: Settings) -> Harness:
    return await make_harness(db, settings)


async def seed_recipients(harness: Harness, count: int) -> None:
    """`count` known customers: every third English, zones in turn, every other with a Giro account."""
    async with harness.db.transaction() as session:
        for i in range(count):
            product = "Giro Bisnis" if i % 2 else "Tabungan Nusantara"
            session.add(
                Recipient(
                    tenant_id=BANK,
                    wa_id=f"62811{i:07d}",
                    customer_id=f"CUST{i:05d}",
                    relationship_since=START,
                    zone=ZONES[i % 3],
                    language="en" if i % 3 == 0 else "id",
                    accounts={f"ACC{i}": {"masked": "•••• 1234", "product": product}},
                    updated_at=START,
                )
            )
        session.add(Recipient(tenant_id=BANK, wa_id="62899", customer_id=None, updated_at=START))  # no relationship


async def approve_update_template(harness: Harness) -> None:
    numbers = [n for n in await harness.services.directory.numbers() if n.tenant_id == BANK]
    async with harness.db.transaction() as session:
        for language in ("id", "en"):
            session.add(
                MessageTemplate(
                    waba_id=numbers[0].waba_id,
                    name="loket_account_update",
                    language=language,
                    category="UTILITY",
                    status="APPROVED",
                    updated_at=START,
                )
            )


def notice(notice_id: str = "fees-2027-01", **fields: Any) -> dict[str, Any]:
    return {
        "id": notice_id,
        "kind": "fees",
        "content": {
            "id": {"title": "Perubahan biaya", "body": "Biaya administrasi menjadi Rp12.500 per bulan."},
            "en": {"title": "Fee change", "body": "The monthly fee becomes Rp12,500."},
        },
        "effective_at": "2027-01-01T00:00:00+07:00",
        **fields,
    }


async def fan_out(harness: Harness) -> int:
    batches = 0
    while await harness.services.notices.fan_out(batch=500):
        batches += 1
    return batches


async def rows(harness: Harness) -> list[OutboxMessage]:
    async with harness.db.sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def test_a_notice_to_everyone_is_fanned_out_in_batches_and_its_progress_followed(harness: Harness) -> None:
    await seed_recipients(harness, 1203)
    await approve_update_template(harness)
    answer = await harness.post("/v1/notices", notice())
    assert answer.status == 202, answer.body
    assert (answer.body["state"], answer.body["recipients"]) == ("fanning_out", 0)
    assert await fan_out(harness) == 3  # 500 + 500 + 204 (the one without a relationship is looked at, skipped)
    status = (await harness.get("/v1/notices/fees-2027-01")).body
    assert (status["state"], status["recipients"], status["customers_considered"]) == ("queued", 1203, 1203)
    assert status["progress"] == {"queued": 1203, "waiting": 1203, "sent": 0, "delivered": 0, "read": 0, "failed": 0}
    queued = await rows(harness)
    assert len(queued) == 1203 and {r.priority for r in queued} == {BULK_PRIORITY}
    assert {r.purpose for r in queued} == {"alert"} and {r.to_wa_id for r in queued} == {
        f"62811{i:07d}" for i in range(1203)
    }
    english = next(r for r in queued if r.to_wa_id == "628110000000")
    indonesian = next(r for r in queued if r.to_wa_id == "628110000001")
    assert "Fee change" in english.payload["text"]["body"] and english.fallback["template"]["language"]["code"] == "en"
    assert "Perubahan biaya" in indonesian.payload["text"]["body"]
    assert "Berlaku mulai" in indonesian.payload["text"]["body"]

    await harness.services.dispatcher.drain()
    status = (await harness.get("/v1/notices/fees-2027-01")).body
    # No chat with any of them: outside the window, so the approved utility template went.
    assert status["progress"]["sent"] == 1203 and status["state"] == "done"
    assert {s["payload"]["type"] for s in harness.channel.sent} == {"template"}
    assert len(harness.channel.sent) == 1203


async def test_a_segment_picks_by_language_zone_product_and_ids(harness: Harness) -> None:
    await seed_recipients(harness, 60)
    segment = {"languages": ["id"], "zones": ["WITA", "Asia/Jayapura"], "products": ["giro"]}
    answer = await harness.post("/v1/notices", notice("seg-1", segment=segment))
    assert answer.status == 202, answer.body
    assert answer.body["segment"]["zones"] == ["Asia/Jayapura", "Asia/Makassar"]
    await fan_out(harness)
    expected = {f"62811{i:07d}" for i in range(60) if i % 3 != 0 and i % 2 == 1}
    assert {r.to_wa_id for r in await rows(harness)} == expected
    listed = await harness.post("/v1/notices", notice("seg-2", segment={"customer_ids": ["CUST00004", "CUST00007"]}))
    assert listed.status == 202
    await fan_out(harness)
    status = (await harness.get("/v1/notices/seg-2")).body
    assert status["recipients"] == 2


async def test_a_notice_is_idempotent_by_id(harness: Harness) -> None:
    await seed_recipients(harness, 10)
    first = await harness.post("/v1/notices", notice())
    again = await harness.post("/v1/notices", notice())
    assert again.status == 202 and again.headers.get("idempotent-replayed") == "true"
    assert again.body["notice_id"] == first.body["notice_id"]
    other = await harness.post("/v1/notices", notice(kind="terms"))
    assert (other.status, other.body["error"]["code"], other.body["error"]["field"]) == (409, "id_reused", "id")
    await fan_out(harness)
    await fan_out(harness)
    assert len(await rows(harness)) == 10
    async with harness.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(NoticeCampaign)) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"segment": {"zones": ["Europe/Paris"]}}, "segment.zones"),
        ({"segment": {"colour": "blue"}}, "segment.colour"),
        ({"kind": "promo"}, "kind"),
        ({"content": {}}, "content"),
        ({"content": {"id": {"title": "x", "body": "y" * 241}}}, "content.id.body"),
        ({"content": {"id": {"title": "T" * 80, "body": "y " * 119 + "z"}}}, "content.id.body"),
        ({"effective_at": "2027-01-01T00:00:00"}, "effective_at"),
        ({"id": "has space"}, "id"),
    ],
)
async def test_bad_notices_get_a_clear_error_and_nothing_is_queued(
    harness: Harness, change: dict[str, Any], field: str
) -> None:
    answer = await harness.post("/v1/notices", notice(**change))
    assert answer.status == 422, answer.body
    assert answer.body["error"]["code"] == "invalid_notice" and answer.body["error"]["field"] == field
    async with harness.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(NoticeCampaign)) == 0


async def test_notices_need_the_signature_and_json(harness: Harness) -> None:
    unsigned = await harness.post("/v1/notices", notice(), secret="wrong")
    assert unsigned.status == 401
    missing = await harness.get("/v1/notices/nope")
    assert missing.status == 404
    from events_support import call

    body = b"{not json"
    bad = await call(harness.app, "POST", "/v1/notices", body, harness.headers(body))
    assert bad.status == 400


async def test_the_openapi_document_describes_notices_with_examples(harness: Harness) -> None:
    document = harness.app.openapi()
    post = document["paths"]["/v1/notices"]["post"]
    content = post["requestBody"]["content"]["application/json"]
    assert set(content["examples"]) == {"fees", "maintenance"}
    assert "$ref" not in str(content["schema"]) and "segment" in content["schema"]["properties"]
    assert "/v1/notices/{notice_id}" in document["paths"]


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update(LOKET_DATABASE_URL=database_url, LOKET_MASTER_KEY=TEST_MASTER_KEY, LOKET_MODE="demo")
    return subprocess.run(
        [sys.executable, "-m", "loket.cli", "outbound", "notice", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def test_the_cli_queues_a_notice_and_reports_its_progress(harness: Harness, database_url: str) -> None:
    await seed_recipients(harness, 30)
    sent = await asyncio.to_thread(
        cli,
        database_url,
        "send",
        "--tenant",
        BANK,
        "--id",
        "maint-1",
        "--kind",
        "maintenance",
        "--title",
        "Pemeliharaan sistem",
        "--body",
        "Sabtu pukul 01.00-03.00 WIB transfer tidak dapat digunakan.",
        "--zone",
        "WIB",
        "--no-wait",
    )
    assert sent.returncode == 0, sent.stderr
    assert "queueing" in sent.stderr and "10 messages queued" in sent.stderr
    shown = await asyncio.to_thread(cli, database_url, "status", "--tenant", BANK, "maint-1", "--json")
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    assert (status["state"], status["recipients"], status["progress"]["waiting"]) == ("queued", 10, 10)
    bad = await asyncio.to_thread(
        cli, database_url, "send", "--tenant", BANK, "--title", "x", "--body", "y", "--zone", "CET", "--no-wait"
    )
    assert bad.returncode == 2 and "unknown zone" in bad.stderr
    missing = await asyncio.to_thread(cli, database_url, "status", "--tenant", BANK, "nope")
    assert missing.returncode == 1 and "no notice" in missing.stderr


async def test_the_progress_bar_follows_the_notice_until_the_last_message(harness: Harness) -> None:
    await seed_recipients(harness, 40)
    await approve_update_template(harness)
    notices = harness.services.notices
    campaign, _ = await notices.create(BANK, parse_request(notice("bar-1")), by="cli:test")

    async def worker() -> None:
        while True:
            await harness.services.dispatcher.drain()
            await asyncio.sleep(0.05)

    sending = asyncio.create_task(worker())
    console = Console(file=io.StringIO(), width=100)
    try:
        with patch.object(notice_cli, "err", console):
            code = await asyncio.wait_for(notice_cli._follow(harness.db, notices, campaign, wait=True, timeout=30), 30)
    finally:
        sending.cancel()
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert code == 0 and "done: 40 sent" in output and "sending" in output


async def test_a_batch_another_process_moved_past_is_rolled_back_not_counted_twice(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_recipients(harness, 5)
    await harness.post("/v1/notices", notice("race-1"))
    real = notices_module.enqueue_many

    async def racing(session: Any, dialect: str, rows: list[dict[str, Any]]) -> None:
        await real(session, dialect, rows)
        # As if another process had written this batch and moved the cursor meanwhile.
        await session.execute(update(NoticeCampaign).values(cursor="62811zzzzzzz"))

    monkeypatch.setattr(notices_module, "enqueue_many", racing)
    assert await harness.services.notices.fan_out() == 0
    monkeypatch.setattr(notices_module, "enqueue_many", real)
    assert await rows(harness) == []
    await fan_out(harness)
    status = (await harness.get("/v1/notices/race-1")).body
    assert (status["recipients"], status["progress"]["queued"]) == (5, 5)
