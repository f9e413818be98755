"""The key hierarchy: master keyring, start-up check, data keys per customer, blind index look-ups."""

from __future__ import annotations

import asyncio

import pytest
from crypto_support import (
    BANK,
    BUDI,
    INSURER,
    MASTER,
    NEW_MASTER,
    SITI,
    ingest_for,
    key_store,
    read_text,
    seed,
    send_text,
)
from sqlalchemy import func, select, update

from loket.config import ConfigError, load_settings
from loket.db.engine import Database
from loket.security.blind_index import BlindIndexer, PhoneNumberError, normalise_phone
from loket.security.envelope import CiphertextError
from loket.security.keycheck import verify_master_keys
from loket.security.keys import MasterKeyError, MasterKeyring, master_key_id
from loket.security.tables import CustomerKey, MasterKeyRecord
from support import INSURER_PNID, TEST_APP_SECRET, TEST_VERIFY_TOKEN


def test_master_key_must_be_32_bytes() -> None:
    with pytest.raises(MasterKeyError, match="32 bytes"):
        MasterKeyring(b"short")


def test_keyring_names_keys_without_revealing_them() -> None:
    ring = MasterKeyring(NEW_MASTER, (MASTER,))
    assert ring.ids == (master_key_id(NEW_MASTER), master_key_id(MASTER))
    assert ring.master(master_key_id(MASTER)) == MASTER
    assert str(MASTER) not in repr(ring) and str(NEW_MASTER) not in repr(ring)
    with pytest.raises(MasterKeyError, match="LOKET_MASTER_KEY_PREVIOUS"):
        ring.master("0123456789abcdef")


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("6281234567890", "6281234567890"), ("+62 812-3456-7890", "6281234567890"), ("0812 3456 7890", "6281234567890")],
)
def test_phone_numbers_are_normalised_before_indexing(raw: str, normal: str) -> None:
    assert normalise_phone(raw) == normal
    indexer = BlindIndexer(bytes(32))
    assert indexer.phone(raw) == indexer.phone("6281234567890")


def test_blind_index_is_keyed_per_tenant() -> None:
    one, other = BlindIndexer(bytes(32)), BlindIndexer(bytes([1]) * 32)
    assert one.phone(SITI) != other.phone(SITI)
    assert one.phone(SITI) != one.phone(BUDI)
    assert SITI not in one.phone(SITI) and len(one.phone(SITI)) == 32
    with pytest.raises(PhoneNumberError):
        one.phone("halo")


async def test_first_start_records_the_master_key(db: Database) -> None:
    await verify_master_keys(db, MasterKeyring(MASTER))
    await verify_master_keys(db, MasterKeyring(MASTER))  # and the same key again is accepted
    async with db.sessions() as session:
        ids = (await session.execute(select(MasterKeyRecord.key_id))).scalars().all()
    assert ids == [master_key_id(MASTER)]


async def test_a_wrong_master_key_is_refused_with_the_reason(db: Database) -> None:
    await verify_master_keys(db, MasterKeyring(MASTER))
    with pytest.raises(MasterKeyError, match="not the master key of this database"):
        await verify_master_keys(db, MasterKeyring(NEW_MASTER))


async def test_a_new_master_key_is_accepted_beside_the_previous_one(db: Database) -> None:
    await verify_master_keys(db, MasterKeyring(MASTER))
    await verify_master_keys(db, MasterKeyring(NEW_MASTER, (MASTER,)))
    await verify_master_keys(db, MasterKeyring(NEW_MASTER))  # on record now


async def test_a_tampered_key_check_value_is_refused(db: Database) -> None:
    await verify_master_keys(db, MasterKeyring(MASTER))
    async with db.transaction() as session:
        await session.execute(update(MasterKeyRecord).values(check_value=b"\x00" * 40))
    with pytest.raises(MasterKeyError, match="tampered"):
        await verify_master_keys(db, MasterKeyring(MASTER))


def test_a_missing_master_key_outside_demo_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOKET_MASTER_KEY", raising=False)
    monkeypatch.setenv("LOKET_MODE", "production")
    monkeypatch.setenv("LOKET_META_APP_SECRET", TEST_APP_SECRET)
    monkeypatch.setenv("LOKET_WEBHOOK_VERIFY_TOKEN", TEST_VERIFY_TOKEN)
    with pytest.raises(ConfigError, match="LOKET_MASTER_KEY"):
        load_settings()


def test_a_malformed_previous_master_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOKET_MODE", "demo")
    monkeypatch.setenv("LOKET_MASTER_KEY_PREVIOUS", "dG9vIHNob3J0")
    with pytest.raises(ConfigError, match="LOKET_MASTER_KEY_PREVIOUS"):
        load_settings()


async def test_one_data_key_per_customer_per_tenant(db: Database) -> None:
    await seed(db)
    keys = key_store(db)
    ingest = ingest_for(db, keys)
    await send_text(ingest, "wamid.1", "halo")
    await send_text(ingest, "wamid.2", "saldo")
    await send_text(ingest, "wamid.3", "halo", wa_id=BUDI)
    await send_text(ingest, "wamid.4", "klaim", pnid=INSURER_PNID)
    async with db.sessions() as session:
        rows = (await session.execute(select(CustomerKey.key_scope, CustomerKey.subject))).all()
        siti_bank = await keys.subject(session, BANK, SITI)
        siti_insurer = await keys.subject(session, INSURER, SITI)
    by_scope = sorted((scope, subject) for scope, subject in rows if subject != "_tenant")
    assert by_scope == sorted(
        [(BANK, siti_bank), (BANK, await _subject(db, keys, BANK, BUDI)), (INSURER, siti_insurer)]
    )
    assert siti_bank != siti_insurer  # no correlation of one person across institutions
    assert [await read_text(db, keys, w) for w in ("wamid.1", "wamid.2", "wamid.3", "wamid.4")] == [
        "halo",
        "saldo",
        "halo",
        "klaim",
    ]


async def _subject(db: Database, keys: object, tenant: str, wa_id: str) -> str:
    from loket.security.keystore import KeyStore

    assert isinstance(keys, KeyStore)
    async with db.sessions() as session:
        return await keys.subject(session, tenant, wa_id)


async def test_blind_index_looks_a_customer_up_by_phone_number(db: Database) -> None:
    await seed(db)
    keys = key_store(db)
    await send_text(ingest_for(db, keys), "wamid.1", "halo")
    async with db.sessions() as session:
        state = await keys.tenant(session, BANK)
        subject = state.indexer.phone("+62 812-3456-7890")  # as staff type it
        found = (
            await session.execute(
                select(func.count()).where(CustomerKey.key_scope == BANK, CustomerKey.subject == subject)
            )
        ).scalar_one()
    assert found == 1


async def test_racing_processes_end_up_with_one_key(db: Database) -> None:
    await seed(db)
    stores = [key_store(db) for _ in range(4)]

    async def create(store: object) -> int:
        from loket.security.keystore import KeyStore

        assert isinstance(store, KeyStore)
        async with db.transaction() as session:
            return (await store.customer_key(session, BANK, SITI)).id

    ids = await asyncio.gather(*(create(store) for store in stores))
    assert len(set(ids)) == 1


async def test_a_fresh_process_reads_what_another_wrote(db: Database) -> None:
    await seed(db)
    await send_text(ingest_for(db, key_store(db)), "wamid.1", "halo")
    assert await read_text(db, key_store(db), "wamid.1") == "halo"


async def test_a_wrong_master_key_never_decrypts(db: Database) -> None:
    await seed(db)
    await send_text(ingest_for(db, key_store(db)), "wamid.1", "halo")
    with pytest.raises(MasterKeyError, match="needed but not configured"):
        await read_text(db, key_store(db, NEW_MASTER, MASTER[::-1]), "wamid.1")


async def test_a_wrapped_key_moved_to_another_customer_does_not_unwrap(db: Database) -> None:
    await seed(db)
    keys = key_store(db)
    ingest = ingest_for(db, keys)
    await send_text(ingest, "wamid.1", "halo")
    await send_text(ingest, "wamid.2", "rahasia", wa_id=BUDI)
    async with db.transaction() as session:
        siti = await keys.subject(session, BANK, SITI)
        budi = await keys.subject(session, BANK, BUDI)
        wrapped = (
            await session.execute(select(CustomerKey.wrapped_dek).where(CustomerKey.subject == budi))
        ).scalar_one()
        await session.execute(update(CustomerKey).where(CustomerKey.subject == siti).values(wrapped_dek=wrapped))
    with pytest.raises(CiphertextError, match="wrapped key"):
        await read_text(db, key_store(db), "wamid.1")


async def test_a_tampered_message_is_detected_not_decrypted(db: Database) -> None:
    from loket.db.models import InboundMessage

    await seed(db)
    keys = key_store(db)
    ingest = ingest_for(db, keys)
    await send_text(ingest, "wamid.1", "halo")
    await send_text(ingest, "wamid.2", "saldo")
    async with db.transaction() as session:
        sealed = (
            await session.execute(select(InboundMessage.sealed).where(InboundMessage.wamid == "wamid.2"))
        ).scalar_one()
        # the same customer's other message, copied over this row: same key, wrong row
        await session.execute(update(InboundMessage).where(InboundMessage.wamid == "wamid.1").values(sealed=sealed))
    with pytest.raises(CiphertextError, match="authentication failed"):
        await read_text(db, keys, "wamid.1")
    assert await read_text(db, keys, "wamid.2") == "saldo"


async def test_the_key_cache_is_bounded_and_evicted_keys_come_back(db: Database) -> None:
    from loket.security.keystore import KeyStore

    await seed(db)
    small = KeyStore(MasterKeyring(MASTER), dialect=db.dialect, cache_size=3)
    ingest = ingest_for(db, small)
    for n in range(6):
        await send_text(ingest, f"wamid.L{n}", f"pesan {n}", wa_id=f"628130000{n:04d}")
    assert len(small.cached([(BANK, f"628130000{n:04d}") for n in range(6)])) <= 3
    assert [await read_text(db, small, f"wamid.L{n}") for n in range(6)] == [f"pesan {n}" for n in range(6)]
