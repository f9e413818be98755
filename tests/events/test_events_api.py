"""The events API: signatures, replays, per-event validation, and the alerts the events become."""

from __future__ import annotations

import orjson
import pytest
from events_support import BANK, Harness, call, make_harness, transaction
from sqlalchemy import func, select

from loket.config import Settings
from loket.db.engine import Database
from loket.db.models import OutboxMessage
from loket.events.tables import AlertPreference, DigestItem, InstitutionEvent


@pytest.fixture
async def harness(db: Database, settings: Settings) -> Harness:
    return await make_harness(db, settings)


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


def tx_for(harness: Harness, index: int = 0, event_id: str = "evt-1", **kwargs: object) -> dict[str, object]:
    customer = harness.customer(index)
    account = str(kwargs.pop("account_id", customer["accounts"][0].account_id))
    return transaction(customer["customer_id"], account, event_id, **kwargs)


async def test_a_transaction_becomes_an_alert_in_the_customers_language_and_zone(harness: Harness) -> None:
    index = next(
        i for i, c in enumerate(harness.customers) if c["timezone"] == "Asia/Makassar" and c["language"] == "id"
    )
    customer = harness.customer(index)
    answer = await harness.post("/v1/events", tx_for(harness, index))
    assert answer.status == 202, answer.body
    assert answer.body["status"] == "accepted" and answer.body["outcome"]["action"] == "message_queued"
    [row] = await outbox(harness.db)
    assert (row.purpose, row.to_wa_id, row.origin) == ("alert", customer["wa_id"], "event:evt-1")
    body = row.payload["interactive"]["body"]["text"]
    last4 = customer["accounts"][0].number[-4:]
    assert "Rp1.250.000" in body and f"•••• {last4}" in body and "11.15 WITA" in body
    assert customer["accounts"][0].number not in body, "never the full account number"
    [button] = row.payload["interactive"]["action"]["buttons"]
    assert button["reply"] == {"id": "alr:evt-1", "title": "Bukan saya"}
    assert row.fallback is not None and row.fallback["template"]["name"] == "loket_transaction_alert"
    params = row.fallback["template"]["components"][0]["parameters"]
    assert all("\n" not in p["text"] for p in params)


async def test_a_replay_returns_the_first_answer_and_queues_nothing_more(harness: Harness) -> None:
    first = await harness.post("/v1/events", tx_for(harness))
    again = await harness.post("/v1/events", tx_for(harness))
    assert again.status == 202 and again.headers.get("idempotent-replayed") == "true"
    assert again.body == first.body | {"replayed": True}
    assert len(await outbox(harness.db)) == 1


async def test_an_id_reused_for_other_content_is_a_conflict(harness: Harness) -> None:
    await harness.post("/v1/events", tx_for(harness))
    answer = await harness.post("/v1/events", tx_for(harness, amount=99))
    assert (answer.status, answer.body["error"]["code"]) == (409, "id_reused")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"age": 301}, "old"),
        ({"age": -400}, "future"),
        ({"secret": "lks_wrong"}, "does not match"),
        ({"tenant": "asuransi-sejahtera"}, "no events signing secret"),
    ],
)
async def test_unauthentic_requests_are_refused(harness: Harness, change: dict[str, object], reason: str) -> None:
    answer = await harness.post("/v1/events", tx_for(harness), **change)
    assert answer.status == 401 and reason in answer.body["error"]["message"]
    assert await outbox(harness.db) == []


async def test_a_signature_over_another_body_is_refused(harness: Harness) -> None:
    body = orjson.dumps(tx_for(harness))
    headers = harness.headers(orjson.dumps(tx_for(harness, amount=1)))
    answer = await call(harness.app, "POST", "/v1/events", body, headers)
    assert answer.status == 401
    missing = await call(harness.app, "POST", "/v1/events", body, {"X-Loket-Tenant": BANK})
    assert missing.status == 401


async def test_a_rotated_secret_keeps_working_for_the_overlap(harness: Harness) -> None:
    old = harness.secret
    harness.secret = await harness.services.endpoints.rotate(BANK)
    assert (await harness.post("/v1/events", tx_for(harness, event_id="e1"), secret=old)).status == 202
    assert (await harness.post("/v1/events", tx_for(harness, event_id="e2"))).status == 202


@pytest.mark.parametrize("amount", ["1.250.000", 1250000.5, 1250000.0, -5, 0, 10**16, None, True])
async def test_malformed_amounts_are_refused_with_the_field_named(harness: Harness, amount: object) -> None:
    answer = await harness.post("/v1/events", tx_for(harness, amount=amount))
    assert answer.status == 422, answer.body
    assert (answer.body["error"]["code"], answer.body["error"]["field"]) == ("invalid_event", "data.amount")


async def test_unknown_customers_and_accounts_are_refused(harness: Harness) -> None:
    unknown = transaction("CIF00000000", "ACC1", "e1")
    answer = await harness.post("/v1/events", unknown)
    assert (answer.status, answer.body["error"]["code"], answer.body["error"]["field"]) == (
        422,
        "unknown_customer",
        "customer_id",
    )
    other_account = harness.customer(1)["accounts"][0].account_id
    answer = await harness.post("/v1/events", tx_for(harness, event_id="e2", account_id=other_account))
    assert (answer.status, answer.body["error"]["code"]) == (422, "unknown_account")
    # A corrected event may be sent again under the same id: rejected events are not stored.
    assert (await harness.post("/v1/events", tx_for(harness, event_id="e2"))).status == 202


async def test_a_batch_accepts_the_good_events_and_answers_each_bad_one(harness: Harness) -> None:
    events = [
        tx_for(harness, 0, "b1"),
        tx_for(harness, 1, "b2", amount="12"),
        {"id": "b3", "type": "transaction.exploded"},
        tx_for(harness, 2, "b4"),
        transaction("CIF00000000", "ACC1", "b5"),
        tx_for(harness, 0, "b1"),  # the same event twice in one batch
        "not an object",
    ]
    answer = await harness.post("/v1/events/batch", {"events": events})
    assert answer.status == 200
    assert (answer.body["accepted"], answer.body["rejected"]) == (3, 4)
    statuses = [(r["index"], r["status"], (r.get("error") or {}).get("code")) for r in answer.body["results"]]
    assert statuses == [
        (0, "accepted", None),
        (1, "rejected", "invalid_event"),
        (2, "rejected", "invalid_event"),
        (3, "accepted", None),
        (4, "rejected", "unknown_customer"),
        (5, "accepted", None),
        (6, "rejected", "invalid_event"),
    ]
    assert answer.body["results"][5]["replayed"] is True
    assert len(await outbox(harness.db)) == 2


async def test_batch_limits_and_broken_bodies(harness: Harness) -> None:
    too_many = [tx_for(harness, 0, f"x{i}") for i in range(1001)]
    assert (await harness.post("/v1/events/batch", {"events": too_many})).status == 400
    assert (await harness.post("/v1/events/batch", {"events": []})).status == 400
    assert (await harness.post("/v1/events/batch", [1, 2])).status == 400
    body = b"{not json"
    answer = await call(harness.app, "POST", "/v1/events", body, harness.headers(body))
    assert (answer.status, answer.body["error"]["code"]) == (400, "bad_request")


async def test_a_full_batch_of_a_thousand_is_taken_in_one_request(harness: Harness) -> None:
    events = [tx_for(harness, i % 20, f"k{i}") for i in range(1000)]
    answer = await harness.post("/v1/events/batch", {"events": events})
    assert (answer.status, answer.body["accepted"]) == (200, 1000)
    async with harness.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InstitutionEvent)) == 1000


async def test_an_accepted_event_can_be_looked_up(harness: Harness) -> None:
    await harness.post("/v1/events", tx_for(harness))
    found = await harness.get("/v1/events/evt-1")
    assert (found.status, found.body["outcome"]["transaction_id"]) == (200, "TRX-evt-1")
    assert (await harness.get("/v1/events/nope")).status == 404


async def test_preferences_send_small_items_to_the_digest_and_skip_tiny_ones(harness: Harness) -> None:
    customer = harness.customer(0)
    async with harness.db.transaction() as session:
        session.add(
            AlertPreference(
                tenant_id=BANK,
                customer_id=customer["customer_id"],
                min_amount=10_000,
                kinds=None,
                digest_below=100_000,
                updated_at=harness.clock.now(),
            )
        )
    answers = [
        await harness.post("/v1/events", tx_for(harness, event_id=f"p{amount}", amount=amount))
        for amount in (5_000, 50_000, 500_000)
    ]
    assert [a.body["outcome"]["action"] for a in answers] == ["skipped", "digest", "message_queued"]
    async with harness.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DigestItem)) == 1


async def test_the_daily_digest_goes_out_after_seven_in_the_evening_local_time(harness: Harness) -> None:
    from loket.events.digest import send_due_digests

    customer = harness.customer(0)
    async with harness.db.transaction() as session:
        session.add(
            AlertPreference(
                tenant_id=BANK,
                customer_id=customer["customer_id"],
                min_amount=0,
                kinds=None,
                digest_below=100_000,
                updated_at=harness.clock.now(),
            )
        )
    for index in range(3):
        await harness.post("/v1/events", tx_for(harness, event_id=f"d{index}", amount=20_000))
    directory = harness.services.directory
    assert await send_due_digests(harness.db, directory, clock=harness.clock) == 0
    harness.clock.advance(10 * 3600)  # 20:00 WIB, 21:00 WITA
    assert await send_due_digests(harness.db, directory, clock=harness.clock) == 1
    [row] = await outbox(harness.db)
    assert "3 transaksi" in row.payload["text"]["body"] and "-Rp60.000" in row.payload["text"]["body"]
    assert await send_due_digests(harness.db, directory, clock=harness.clock) == 0


async def test_other_events_become_alerts(harness: Harness) -> None:
    customer = harness.customer(0)
    card = customer["cards"][0]
    base = {"occurred_at": "2026-11-30T10:20:00+07:00", "customer_id": customer["customer_id"]}
    account_id = customer["accounts"][0].account_id
    notice = {"notice": "maintenance", "title": "Pemeliharaan", "body": "Layanan terganggu Minggu 01.00-03.00 WIB."}
    events = [
        base | {"id": "c1", "type": "card.status_changed", "data": {"card_id": card.card_id, "status": "blocked"}},
        base | {"id": "n1", "type": "account.notice", "data": notice},
        base | {"id": "l1", "type": "loan.status_changed", "data": {"loan_id": "LN-1", "status": "approved"}},
        base | {"id": "k1", "type": "claim.status_changed", "data": {"claim_id": "CL-1", "status": "paid"}},
        base | {"id": "s1", "type": "balance.changed", "data": {"account_id": account_id, "balance": 100}},
    ]
    answer = await harness.post("/v1/events/batch", {"events": events})
    assert [r["outcome"]["action"] for r in answer.body["results"]] == ["message_queued"] * 4 + ["skipped"]
    rows = await outbox(harness.db)
    assert [r.purpose for r in rows] == ["security", "alert", "alert", "alert"]
    assert "diblokir" in rows[0].payload["text"]["body"]
    assert all(r.fallback and r.fallback["template"]["name"] == "loket_account_update" for r in rows)


async def test_the_openapi_document_describes_the_events_with_examples(harness: Harness) -> None:
    document = harness.app.openapi()
    post = document["paths"]["/v1/events"]["post"]
    content = post["requestBody"]["content"]["application/json"]
    assert set(content["examples"]) >= {"transaction", "confirmation"}
    assert "oneOf" in content["schema"] and "$ref" not in orjson.dumps(content["schema"]).decode()
    assert {p["name"] for p in post["parameters"]} >= {"X-Loket-Tenant", "X-Loket-Signature"}
    assert "/v1/events/batch" in document["paths"] and "/v1/confirmations/{confirmation_id}" in document["paths"]


async def test_the_alert_is_sent_with_the_gate_and_reaches_the_channel(harness: Harness) -> None:
    await harness.post("/v1/events", tx_for(harness))
    await harness.services.dispatcher.drain()
    [row] = await outbox(harness.db)
    # No conversation yet: outside the window, so the approved template is required, and Loket has
    # not seen it approved (no `loket templates submit` here): refused, and the institution is told.
    assert (row.state, row.policy_rule) == ("refused", "template.not_approved")
