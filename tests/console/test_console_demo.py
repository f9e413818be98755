"""`loket demo`'s console logins: seeded ready to use (TOTP enrolled, final password), stable across
restarts, and `totp-now` gives the code a person types."""

from __future__ import annotations

import re

from console_harness import ConsoleWorld
from staff_harness import FAST_HASHING, MASTER_KEY
from typer.testing import CliRunner

from loket.cli import app as cli_app
from loket.console.demo_staff import seed_demo_staff
from loket.core.demo.tenants import DEMO_TENANTS
from loket.demo import seed_tenants
from loket.security.secretbox import SecretBox
from loket.staff import totp


async def test_demo_accounts_sign_in_with_password_and_the_totp_code(console_world: ConsoleWorld) -> None:
    await seed_tenants(console_world.db, SecretBox(MASTER_KEY))
    logins = await seed_demo_staff(console_world.db, MASTER_KEY, clock=console_world.clock, hashing=FAST_HASHING)
    assert len(logins) == 3 * len(DEMO_TENANTS)
    assert {login.role.value for login in logins} == {"agent", "supervisor", "compliance_officer"}
    again = await seed_demo_staff(console_world.db, MASTER_KEY, clock=console_world.clock, hashing=FAST_HASHING)
    assert [(a.email, a.password, a.totp_uri) for a in again] == [(b.email, b.password, b.totp_uri) for b in logins]
    supervisor = next(login for login in logins if login.role.value == "supervisor")
    browser = console_world.client()
    form = (await browser.get("/console/login")).body.decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf
    step = await browser.request(
        "POST",
        "/console/login",
        form={"email": supervisor.email, "password": supervisor.password, "csrf_token": csrf.group(1)},
    )
    assert step.header("location") == "/console/login/totp"
    page = (await browser.get("/console/login/totp")).body.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    secret = re.search(r"secret=([A-Z2-7]+)", supervisor.totp_uri)
    assert secret
    console_world.clock.advance(30)
    code = totp.code_at(secret.group(1), console_world.clock.now())
    done = await browser.request("POST", "/console/login/totp", form={"csrf_token": token.group(1), "code": code})
    assert done.status == 303 and done.header("location") == "/console/inbox"
    assert (await browser.get("/console/dashboard")).status == 200


def test_totp_now_refuses_outside_the_demo(monkeypatch: object, tmp_path: object) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli_app, ["staff", "totp-now", "--email", "agent@x.demo.loket.id"], env={"LOKET_MODE": "production"}
    )
    assert result.exit_code == 2 and "demo only" in result.output
    result = runner.invoke(
        cli_app,
        ["staff", "totp-now", "--email", "agent@x.demo.loket.id"],
        env={"LOKET_MODE": "demo", "LOKET_VAR_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2 and "run `loket demo` first" in result.output
