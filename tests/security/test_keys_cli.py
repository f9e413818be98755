"""`loket keys status|rotate` as an operator runs them, and the refusal of a wrong master key."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from crypto_support import BANK, MASTER, NEW_MASTER, ingest_for, key_store, read_text, seed, send_text

from loket.db.engine import Database
from loket.security.keycheck import verify_master_keys
from loket.security.keys import MasterKeyring, master_key_id


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def loket(
    database_url: str, tmp_path: Path, *args: str, command: str = "keys", **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update(LOKET_DATABASE_URL=database_url, LOKET_VAR_DIR=str(tmp_path / "var"), LOKET_MODE="demo")
    env.update({"LOKET_MASTER_KEY": _b64(MASTER), **extra})
    return subprocess.run(
        [sys.executable, "-m", "loket.cli", command, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def test_status_and_rotate_from_the_command_line(db: Database, database_url: str, tmp_path: Path) -> None:
    await seed(db)
    await verify_master_keys(db, MasterKeyring(MASTER))
    await send_text(ingest_for(db, key_store(db)), "wamid.C1", "halo")
    status = loket(database_url, tmp_path, "status", "--json")
    assert status.returncode == 0, status.stderr
    before = {s["scope"]: s for s in json.loads(status.stdout)["scopes"]}
    assert before[BANK]["current_version"] == 1 and before[BANK]["keys_by_version"] == {"1": 1}

    rotated = loket(database_url, tmp_path, "rotate", "--tenant", BANK)
    assert rotated.returncode == 0, rotated.stderr
    assert f"{BANK}: rotated to KEK v2" in rotated.stdout
    after = {s["scope"]: s for s in json.loads(loket(database_url, tmp_path, "status", "--json").stdout)["scopes"]}
    assert after[BANK]["current_version"] == 2 and after[BANK]["lagging"] == 0
    assert await read_text(db, key_store(db), "wamid.C1") == "halo"


async def test_root_rotation_from_the_command_line(db: Database, database_url: str, tmp_path: Path) -> None:
    await seed(db)
    await verify_master_keys(db, MasterKeyring(MASTER))
    await send_text(ingest_for(db, key_store(db)), "wamid.C1", "halo")
    wrong = loket(database_url, tmp_path, "rotate", LOKET_MASTER_KEY=_b64(NEW_MASTER))
    assert wrong.returncode == 2
    assert "not the master key of this database" in wrong.stderr and "LOKET_MASTER_KEY_PREVIOUS" in wrong.stderr
    rotated = loket(
        database_url,
        tmp_path,
        "rotate",
        "--resume-only",
        LOKET_MASTER_KEY=_b64(NEW_MASTER),
        LOKET_MASTER_KEY_PREVIOUS=_b64(MASTER),
    )
    assert rotated.returncode == 0, rotated.stderr
    assert f"master key {master_key_id(MASTER)} retired" in rotated.stdout
    assert await read_text(db, key_store(db, NEW_MASTER), "wamid.C1") == "halo"


async def test_serve_refuses_a_wrong_master_key_with_the_reason(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    await verify_master_keys(db, MasterKeyring(MASTER))
    result = loket(database_url, tmp_path, "--port", "9", command="serve", LOKET_MASTER_KEY=_b64(NEW_MASTER))
    assert result.returncode == 2
    assert "not the master key of this database" in result.stderr
