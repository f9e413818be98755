"""`loket privacy ...` on the test database: --help everywhere, holds, purges, clear errors."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from privacy_support import BANK, SITI
from typer.testing import CliRunner

from loket.cli import app
from loket.db.engine import Database
from loket.demo import seed_tenants
from loket.security.secretbox import SecretBox
from support import TEST_MASTER_KEY, TEST_SCOPE

runner = CliRunner()


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    async def seed() -> None:
        db = Database(database_url, default_scope=TEST_SCOPE)
        try:
            await seed_tenants(db, SecretBox(base64.urlsafe_b64decode(TEST_MASTER_KEY)))
        finally:
            await db.dispose()

    asyncio.run(seed())
    return {
        "LOKET_DATABASE_URL": database_url,
        "LOKET_MASTER_KEY": TEST_MASTER_KEY,
        "LOKET_MODE": "production",
        "LOKET_META_APP_SECRET": "x",
        "LOKET_WEBHOOK_VERIFY_TOKEN": "y",
    }


@pytest.mark.parametrize(
    "command", [[], ["list"], ["show"], ["export"], ["reject"], ["purge"], ["hold"], ["hold", "set"], ["hold", "lift"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, ["privacy", *command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_holds_and_a_dry_run_purge(env: dict[str, str]) -> None:
    made = runner.invoke(
        app,
        ["privacy", "hold", "set", "--tenant", BANK, "--reason", "litigation", "--by", "dpo", "--wa-id", SITI],
        env=env,
    )
    assert made.exit_code == 0, made.output
    hold = json.loads(made.stdout)
    assert hold["scope"] == "customer" and SITI not in made.stdout
    purge = runner.invoke(app, ["privacy", "purge", "--dry-run", "--json", "--tenant", BANK], env=env)
    assert purge.exit_code == 0, purge.output
    assert json.loads(purge.stdout)["dry_run"] is True
    lifted = runner.invoke(app, ["privacy", "hold", "lift", str(hold["id"]), "--tenant", BANK, "--by", "dpo"], env=env)
    assert lifted.exit_code == 0 and json.loads(lifted.stdout)["lifted_by"] == "cli:dpo"


def test_bad_input_is_a_clear_error(env: dict[str, str]) -> None:
    bad_days = runner.invoke(app, ["privacy", "purge", "--days", "audit_log=3"], env=env)
    assert bad_days.exit_code == 1 and "never purged" in bad_days.output
    malformed = runner.invoke(app, ["privacy", "purge", "--days", "messages"], env=env)
    assert malformed.exit_code == 2 and "class=days" in malformed.output
    missing = runner.invoke(app, ["privacy", "show", "PDP-0000000000", "--tenant", BANK], env=env)
    assert missing.exit_code == 1 and "no data-subject request" in missing.output
    no_key = runner.invoke(app, ["privacy", "list"], env={**env, "LOKET_MASTER_KEY": ""})
    assert no_key.exit_code == 2
