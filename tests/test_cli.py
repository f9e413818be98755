"""The `loket` command as operators and tools outside the project use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import TEST_MASTER_KEY


def loket(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loket.cli", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def demo_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update(LOKET_DATABASE_URL=database_url, LOKET_VAR_DIR=str(tmp_path / "var"), LOKET_MASTER_KEY=TEST_MASTER_KEY)
    return env


def test_demo_seed_json_lists_tenants_and_customers(database_url: str, tmp_path: Path) -> None:
    result = loket("demo", "seed", "--json", env=demo_env(database_url, tmp_path))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    tenants = {t["tenant_id"]: t for t in data["tenants"]}
    assert set(tenants) == {"bank-nusantara", "asuransi-sejahtera"}
    assert all(t["phone_number_id"].isdigit() for t in tenants.values())
    assert 45 <= len(data["customers"]) <= 60
    for customer in data["customers"]:
        assert customer["wa_id"].startswith("62") and customer["wa_id"].isdigit()
        assert customer["name"] and customer["language"] in ("id", "en")
    languages = [c["language"] for c in data["customers"]]
    assert languages.count("id") > languages.count("en") > 0
    zones = {c["timezone"] for c in data["customers"]}
    assert zones == {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}
    again = loket("demo", "seed", "--json", env=demo_env(database_url, tmp_path))
    assert json.loads(again.stdout) == data, "the seed is deterministic and idempotent"


def test_migrate_then_serve_refuses_missing_secrets(database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env["LOKET_DATABASE_URL"] = database_url
    result = loket("migrate", env=env)
    assert result.returncode == 2
    assert "LOKET_META_APP_SECRET" in result.stderr
    env.update(LOKET_META_APP_SECRET="s", LOKET_WEBHOOK_VERIFY_TOKEN="v", LOKET_MASTER_KEY=TEST_MASTER_KEY)
    result = loket("migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert "database schema at" in result.stderr


def test_worker_needs_a_core_system(database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update(
        LOKET_DATABASE_URL=database_url,
        LOKET_META_APP_SECRET="s",
        LOKET_WEBHOOK_VERIFY_TOKEN="v",
        LOKET_MASTER_KEY=TEST_MASTER_KEY,
    )
    result = loket("worker", env=env)
    assert result.returncode == 2
    assert "LOKET_CORE_URL" in result.stderr


@pytest.mark.parametrize("command", [[], ["serve"], ["worker"], ["demo"], ["demo", "seed"], ["migrate"], ["sandbox"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = loket(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
