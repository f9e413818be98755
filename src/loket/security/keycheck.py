"""Start-up check of the master key against the key check values on record.

A wrong `LOKET_MASTER_KEY` must stop the process with the reason before it writes a single row
under a key that cannot open the existing ones. A new key is accepted only on an empty key table
(first start) or when a previous key on record is configured too (a rotation of the root).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from loket.clock import Clock, system_clock
from loket.config import Settings
from loket.db.engine import Database
from loket.db.migrate import SchemaError, check_schema
from loket.db.upsert import insert_ignore
from loket.security.keys import MasterKeyError, MasterKeyring, check_matches, check_value, master_key_id
from loket.security.tables import MasterKeyRecord


def keyring_from_settings(settings: Settings) -> MasterKeyring:
    return MasterKeyring(settings.master_key_bytes, settings.previous_master_keys_bytes)


async def verify_master_keys(db: Database, keyring: MasterKeyring, *, clock: Clock = system_clock) -> None:
    """Raises MasterKeyError when the configured master key(s) cannot be the ones this database uses."""
    async with db.transaction() as session:
        rows = (await session.execute(select(MasterKeyRecord.key_id, MasterKeyRecord.check_value))).all()
        on_record = {str(key_id): bytes(value) for key_id, value in rows}
        for key in (keyring.current, *keyring.previous):
            value = on_record.get(master_key_id(key))
            if value is not None and not check_matches(key, value):
                raise MasterKeyError(
                    f"master key {master_key_id(key)}: the key check value on record does not match "
                    "(the master_keys table was tampered with)"
                )
        if keyring.current_id in on_record:
            return
        previous_ok = any(master_key_id(key) in on_record for key in keyring.previous)
        if on_record and not previous_ok:
            raise MasterKeyError(
                "LOKET_MASTER_KEY is not the master key of this database (its id "
                f"{keyring.current_id} is not among those on record: {', '.join(sorted(on_record))}). "
                "Set the key this database was created with; to rotate the root, set the new key as "
                "LOKET_MASTER_KEY, the old one as LOKET_MASTER_KEY_PREVIOUS, then run `loket keys rotate`."
            )
        await session.execute(
            insert_ignore(db.dialect, MasterKeyRecord, "key_id").values(
                key_id=keyring.current_id, check_value=check_value(keyring.current), created_at=clock.now()
            )
        )


def check_master_key(settings: Settings) -> None:
    """The start-up check on its own connection, for commands that refuse before serving anything."""

    async def run() -> None:
        db = Database(settings.effective_database_url)
        try:
            try:
                await check_schema(db)
            except SchemaError:
                return  # the command reports that itself ("run loket migrate")
            await verify_master_keys(db, keyring_from_settings(settings))
        finally:
            await db.dispose()

    asyncio.run(run())
