"""Online key rotation: re-wrapping under a new KEK version, interrupted and resumed, under traffic."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from crypto_support import BANK, INSURER, MASTER, NEW_MASTER, ingest_for, key_store, read_text, seed, send_text
from sqlalchemy import select

from loket.audit.log import current as audit_current
from loket.audit.log import install
from loket.db.engine import Database
from loket.security.keycheck import verify_master_keys
from loket.security.keys import MasterKeyring, master_key_id
from loket.security.rotation import key_status, master_key_status, rotate
from loket.security.tables import CustomerKey, TenantKek
from support import INSURER_PNID


@pytest.fixture(autouse=True)
def _no_leftover_audit_log() -> Iterator[None]:
    """Another test's runtime may have installed a process-wide audit log on a database now gone."""
    previous = audit_current()
    install(None)
    yield
    install(previous)


async def _customers(db: Database, count: int, *, prefix: str = "62811000") -> list[str]:
    keys = key_store(db)
    ingest = ingest_for(db, keys)
    wamids = []
    for n in range(count):
        wamid = f"wamid.R{prefix}{n}"
        await send_text(ingest, wamid, f"pesan {n}", wa_id=f"{prefix}{n:05d}")
        wamids.append(wamid)
    return wamids


async def _versions(db: Database, scope: str) -> dict[int, int]:
    return next(s for s in await key_status(db) if s.scope == scope).keys_by_version


async def test_rotation_rewraps_every_key_and_old_data_stays_readable(db: Database) -> None:
    await seed(db)
    wamids = await _customers(db, 12)
    await send_text(ingest_for(db, key_store(db)), "wamid.INS", "klaim", pnid=INSURER_PNID)
    keys = key_store(db)
    report = await rotate(db, keys, batch_size=5)
    assert report.started[BANK] == 2 and report.started[INSURER] == 2
    assert await _versions(db, BANK) == {2: 12}  # one data key per customer, all under v2
    assert report.retired_versions and (BANK, 1) in report.retired_versions
    fresh = key_store(db)
    assert [await read_text(db, fresh, w) for w in wamids] == [f"pesan {n}" for n in range(12)]
    assert await read_text(db, fresh, "wamid.INS") == "klaim"


async def test_an_interrupted_rotation_resumes_where_it_stopped(db: Database) -> None:
    await seed(db)
    wamids = await _customers(db, 10)
    keys = key_store(db)
    first = await rotate(db, keys, scopes=[BANK], batch_size=3, max_batches=2)
    assert first.interrupted
    half = await _versions(db, BANK)
    assert half.get(1) and half.get(2)  # half-way: keys under both versions
    # Everything stays readable half-way, by a process that knows nothing of the rotation.
    assert [await read_text(db, key_store(db), w) for w in wamids] == [f"pesan {n}" for n in range(10)]
    second = await rotate(db, keys, scopes=[BANK], batch_size=3)  # asks for a new version: resumes instead
    assert second.resumed == {BANK: 2} and not second.started
    assert await _versions(db, BANK) == {2: 10}
    assert [await read_text(db, key_store(db), w) for w in wamids] == [f"pesan {n}" for n in range(10)]
    async with db.sessions() as session:
        versions = (await session.execute(select(TenantKek.version).where(TenantKek.key_scope == BANK))).scalars()
        assert sorted(versions) == [1, 2]


async def test_rotation_under_concurrent_writes_and_reads(db: Database) -> None:
    await seed(db)
    wamids = await _customers(db, 20)
    keys = key_store(db)  # one process: ingest and readers share the key cache, as in `loket serve`
    ingest = ingest_for(db, keys)
    ingest.start()
    stop = asyncio.Event()
    written: list[str] = []
    read_errors: list[BaseException] = []

    async def traffic() -> None:
        n = 0
        while not stop.is_set():
            wamid = f"wamid.LIVE{n}"
            await send_text(ingest, wamid, f"live {n}", wa_id=f"6281200{n % 30:05d}")  # new and known customers
            written.append(wamid)
            n += 1
            await asyncio.sleep(0)

    async def readers() -> None:
        reader_keys = key_store(db)  # another process, with its own cache
        while not stop.is_set():
            for wamid in wamids[::3]:
                try:
                    assert (await read_text(db, reader_keys, wamid) or "").startswith("pesan")
                except BaseException as exc:  # collected and asserted below
                    read_errors.append(exc)
            await asyncio.sleep(0)

    tasks = [asyncio.create_task(traffic()), asyncio.create_task(readers())]
    try:
        report = await rotate(db, key_store(db), scopes=[BANK], batch_size=4)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await ingest.stop()
    assert report.started == {BANK: 2} and report.rewrapped >= 20
    assert not read_errors
    assert written, "the traffic ran during the rotation"
    # Keys created by writers that had not seen version 2 yet are finished by the next run.
    await rotate(db, key_store(db), scopes=[BANK], new_version=False)
    assert set(await _versions(db, BANK)) == {2}
    fresh = key_store(db)
    for n, wamid in enumerate(written):
        assert await read_text(db, fresh, wamid) == f"live {n}"
    for n, wamid in enumerate(wamids):
        assert await read_text(db, fresh, wamid) == f"pesan {n}"


async def test_root_rotation_moves_every_tenant_to_the_new_master_key(db: Database) -> None:
    await seed(db)
    await verify_master_keys(db, MasterKeyring(MASTER))
    wamids = await _customers(db, 6)
    both = key_store(db, NEW_MASTER, MASTER)
    await verify_master_keys(db, both.keyring)
    report = await rotate(db, both, new_version=False)  # only what the master key change requires
    assert report.started[BANK] == 2
    async with db.sessions() as session:
        masters = {
            row.key_scope: row.master_key_id
            for row in (await session.execute(select(TenantKek).where(TenantKek.retired_at.is_(None)))).scalars()
        }
    assert set(masters.values()) == {master_key_id(NEW_MASTER)}
    assert dict(await master_key_status(db)) == {master_key_id(MASTER): True, master_key_id(NEW_MASTER): False}
    assert master_key_id(MASTER) in report.retired_masters
    only_new = key_store(db, NEW_MASTER)  # the previous key removed from the configuration
    assert [await read_text(db, only_new, w) for w in wamids] == [f"pesan {n}" for n in range(6)]


async def test_rotating_twice_makes_a_third_version(db: Database) -> None:
    await seed(db)
    await _customers(db, 3)
    await rotate(db, key_store(db), scopes=[BANK])
    again = await rotate(db, key_store(db), scopes=[BANK])
    assert again.started == {BANK: 3}
    async with db.sessions() as session:
        left = (await session.execute(select(CustomerKey.kek_version).where(CustomerKey.key_scope == BANK))).scalars()
        assert set(left) == {3}
