"""Demo staff logins: an agent, a supervisor and a compliance officer per demo institution, ready to
sign in (TOTP already enrolled, password final), so a person trying `loket demo` can use the console.

Passwords and TOTP secrets are derived from the demo's master key (kept under ./var/), so they stay
the same across restarts and differ between installations. `loket staff totp-now --email X` prints the
current code of a demo account; both exist in demo mode only, never in production.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select, update

from loket.audit import AuditLog, Pseudonymizer
from loket.clock import Clock, system_clock
from loket.config import ConfigError, Mode, Settings
from loket.core.demo.tenants import DEMO_TENANTS
from loket.db.engine import Database
from loket.db.scope import SystemReason, system_scope
from loket.staff import totp
from loket.staff.audit_bridge import LoketAudit
from loket.staff.cli import needs
from loket.staff.passwords import HashParameters
from loket.staff.permissions import Role
from loket.staff.service import StaffService
from loket.staff.signin import TOTP_COLUMN
from loket.staff.tables import StaffUser

DEMO_ROLES = (
    (Role.AGENT, "agent", "Agen"),
    (Role.SUPERVISOR, "supervisor", "Supervisor"),
    (Role.COMPLIANCE_OFFICER, "compliance", "Kepatuhan"),
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: Role
    tenant_id: str
    totp_uri: str


def _derive(master_key: bytes, purpose: str, email: str) -> bytes:
    return hmac.new(master_key, f"loket-demo-staff|{purpose}|{email}".encode(), hashlib.sha256).digest()


def demo_password(master_key: bytes, email: str) -> str:
    words = base64.b32encode(_derive(master_key, "password", email)).decode().lower()
    return f"Kopi-{words[:5]}-{words[5:10]}-{words[10:14]}"


def demo_totp_secret(master_key: bytes, email: str) -> str:
    return base64.b32encode(_derive(master_key, "totp", email)[:20]).decode()


def demo_accounts(master_key: bytes) -> list[DemoLogin]:
    logins = []
    for tenant in DEMO_TENANTS:
        for role, slug, _ in DEMO_ROLES:
            email = f"{slug}@{tenant.tenant_id}.demo.loket.id"
            secret = demo_totp_secret(master_key, email)
            uri = totp.enrolment(secret, account=email).provisioning_uri
            logins.append(DemoLogin(email, demo_password(master_key, email), role, tenant.tenant_id, uri))
    return logins


async def seed_demo_staff(
    db: Database, master_key: bytes, *, clock: Clock = system_clock, hashing: HashParameters | None = None
) -> list[DemoLogin]:
    """Create (or bring back to the demo state) the demo accounts; returns their logins."""
    audit = LoketAudit(AuditLog(db, Pseudonymizer(master_key)))
    staff = StaffService.build(db, master_key, clock=clock, audit=audit, hashing=hashing)
    names = {tenant.tenant_id: tenant.name for tenant in DEMO_TENANTS}
    logins = demo_accounts(master_key)
    with system_scope(SystemReason.DEMO_SEED):
        for login in logins:
            title = next(title for role, _, title in DEMO_ROLES if role is login.role)
            if await staff.accounts.find_by_email(login.email) is None:
                await staff.accounts.create_user(
                    None,
                    email=login.email,
                    display_name=f"{title} {names[login.tenant_id]}",
                    role=login.role,
                    tenant_id=login.tenant_id,
                    password=login.password,
                )
            hashed = await asyncio.to_thread(staff.ctx.passwords.hash, login.password)
            async with db.transaction() as session:
                user_id = await session.scalar(select(StaffUser.id).where(StaffUser.email == login.email))
                assert user_id is not None
                secret = demo_totp_secret(master_key, login.email)
                sealed = staff.ctx.keys.box.seal(secret, row=user_id, **TOTP_COLUMN)
                now = clock.now()
                await session.execute(
                    update(StaffUser)
                    .where(StaffUser.id == user_id, StaffUser.totp_confirmed_at.is_(None))
                    .values(totp_secret_enc=sealed, totp_confirmed_at=now, totp_last_step=None)
                )
                await session.execute(
                    update(StaffUser)
                    .where(StaffUser.id == user_id)
                    .values(password_hash=hashed, must_change_password=False, status="active", updated_at=now)
                )
    return logins


def demo_code(settings: Settings, email: str, *, clock: Clock = system_clock) -> str:
    """The current TOTP code of a demo account (demo mode only)."""
    if settings.mode is not Mode.DEMO:
        raise ConfigError("totp-now works in demo mode only (LOKET_MODE=demo)")
    wanted = email.strip().casefold()
    if wanted not in {login.email for login in demo_accounts(settings.master_key_bytes)}:
        raise ConfigError(f"{email} is not one of the demo accounts")
    return totp.code_at(demo_totp_secret(settings.master_key_bytes, wanted), clock.now())


@needs("totp-now", "account.self")
def totp_now(email: Annotated[str, typer.Option("--email", help="A demo account's email.")]) -> None:
    """Print the current TOTP code of a demo staff account (demo only: `loket demo` prints the accounts)."""
    from loket.demo import demo_settings

    try:
        mode = os.environ.get("LOKET_MODE", Mode.DEMO.value)
        var_dir = Path(os.environ.get("LOKET_VAR_DIR", "var"))
        if mode != Mode.DEMO.value:
            raise ConfigError("totp-now works for the demo only; this environment sets LOKET_MODE=" + mode)
        if not (var_dir / "demo-secrets.json").exists():
            raise ConfigError(f"no demo here ({var_dir}/demo-secrets.json is missing): run `loket demo` first")
        typer.echo(demo_code(demo_settings("127.0.0.1", 8000), email))
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
