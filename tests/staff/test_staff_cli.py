"""`loket staff ...` commands, run the way an operator runs them: configuration from the environment."""

from __future__ import annotations

import asyncio
import base64
import json

from sqlalchemy import select
from staff_harness import MASTER_KEY, TENANT_A, seed_tenants
from typer.testing import CliRunner

from loket.audit.tables import AuditEntry
from loket.clock import FakeClock
from loket.console import demo_staff  # registers `loket staff totp-now`, as `loket` itself does
from loket.db.engine import Database
from loket.staff.apikeys import key_digest
from loket.staff.cli import CLI_NEEDS, staff_app
from loket.staff.permissions import PERMISSIONS
from support import TEST_SCOPE


def _env(database_url: str) -> dict[str, str]:
    master_key = base64.urlsafe_b64encode(MASTER_KEY).decode()
    return {"LOKET_DATABASE_URL": database_url, "LOKET_MASTER_KEY": master_key, "LOKET_MODE": "demo"}


def _seed(database_url: str) -> None:
    async def run() -> None:
        db = Database(database_url, default_scope=TEST_SCOPE)
        try:
            await seed_tenants(db, FakeClock())
        finally:
            await db.dispose()

    asyncio.run(run())


def test_every_command_declares_a_known_permission() -> None:
    assert demo_staff.totp_now is not None
    names = {command.name for command in staff_app.registered_commands}
    assert names == set(CLI_NEEDS) == {"create-user", "reset-password", "list", "create-api-key", "totp-now"}
    assert set(CLI_NEEDS.values()) <= PERMISSIONS.keys()


def test_create_list_reset_and_key(database_url: str) -> None:
    _seed(database_url)
    runner = CliRunner()
    env = _env(database_url)

    created = runner.invoke(
        staff_app,
        ["create-user", "ops@andalas.example", "--name", "Ops", "--role", "tenant_admin", "--tenant", TENANT_A],
        env=env,
    )
    assert created.exit_code == 0, created.output
    assert "temporary password (shown once): " in created.output

    listed = runner.invoke(staff_app, ["list", "--tenant", TENANT_A, "--json"], env=env)
    rows = json.loads(listed.stdout)
    assert [(r["email"], r["roles"], r["totp_enrolled"]) for r in rows] == [
        ("ops@andalas.example", {TENANT_A: "tenant_admin"}, False)
    ]

    reset = runner.invoke(staff_app, ["reset-password", "ops@andalas.example", "--reset-totp"], env=env)
    assert reset.exit_code == 0 and "temporary password (shown once): " in reset.output

    key = runner.invoke(
        staff_app, ["create-api-key", "--tenant", TENANT_A, "--name", "core", "--scope", "events:write"], env=env
    )
    assert key.exit_code == 0, key.output
    printed = key.output.split("key (shown once): ")[1].strip()
    assert printed.startswith(f"lkt_{TENANT_A}_") and len(key_digest(printed)) == 64


def test_errors_are_clear_and_exit_2(database_url: str) -> None:
    _seed(database_url)
    runner = CliRunner()
    env = _env(database_url)
    bad_role = runner.invoke(staff_app, ["create-user", "a@b.example", "--name", "A", "--role", "boss"], env=env)
    assert bad_role.exit_code == 2 and "roles are" in bad_role.output
    no_tenant = runner.invoke(staff_app, ["create-user", "a@b.example", "--name", "A", "--role", "agent"], env=env)
    assert no_tenant.exit_code == 2 and "needs a tenant" in no_tenant.output
    unknown = runner.invoke(staff_app, ["reset-password", "ghost@b.example"], env=env)
    assert unknown.exit_code == 2 and "no account" in unknown.output
    bad_scope = runner.invoke(
        staff_app, ["create-api-key", "--tenant", TENANT_A, "--name", "x", "--scope", "root"], env=env
    )
    assert bad_scope.exit_code == 2 and "scopes must be" in bad_scope.output
    no_key = runner.invoke(staff_app, ["list"], env={**env, "LOKET_MASTER_KEY": ""})
    assert no_key.exit_code == 2 and "LOKET_MASTER_KEY" in no_key.output


def test_cli_actions_are_in_the_audit_log(database_url: str) -> None:
    _seed(database_url)
    runner = CliRunner()
    env = _env(database_url)
    args = ["create-user", "ops@andalas.example", "--name", "Ops", "--role", "agent", "--tenant", TENANT_A]
    assert runner.invoke(staff_app, args, env=env).exit_code == 0

    async def entries() -> list[tuple[str, str | None, dict[str, object]]]:
        db = Database(database_url, default_scope=TEST_SCOPE)
        try:
            async with db.transaction() as session:
                rows = await session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == TENANT_A))
                return [(r.event_type, r.actor, dict(r.fields)) for r in rows]
        finally:
            await db.dispose()

    ((kind, actor, fields),) = asyncio.run(entries())
    assert (kind, actor, fields["permission"], fields["by"]) == ("permission.granted", None, "role:agent", "cli")
