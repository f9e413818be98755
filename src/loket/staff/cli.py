"""`loket staff ...`: accounts and API keys from the server's shell.

Whoever runs these has the server's configuration and master key, so the commands act with platform
trust (actor None, "cli" in the audit log). Each still declares the permission it stands for, in
CLI_NEEDS.
Secrets (temporary passwords, API keys) are printed once, to standard output, and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, NoReturn, TypeVar

import typer

from loket.audit import AuditLog, Pseudonymizer
from loket.config import ConfigError, load_settings
from loket.db.engine import Database
from loket.db.scope import OPERATOR
from loket.staff.apikeys import SCOPES
from loket.staff.audit_bridge import LoketAudit
from loket.staff.errors import StaffError
from loket.staff.passwords import WeakPassword
from loket.staff.permissions import Role, check_permission_name, parse_role
from loket.staff.service import StaffService

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., None])

staff_app = typer.Typer(help="Staff accounts and API keys (acts with platform trust).", no_args_is_help=True)
CLI_NEEDS: dict[str, str] = {}


def needs(command: str, permission: str) -> Callable[[F], F]:
    """Register a command under `command`, declaring the permission it exercises."""

    def register(func: F) -> F:
        CLI_NEEDS[command] = check_permission_name(permission)
        staff_app.command(command)(func)
        return func

    return register


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _run(work: Callable[[StaffService], Awaitable[T]]) -> T:
    try:
        settings = load_settings()
        master_key = settings.master_key_bytes
    except ConfigError as exc:
        _fail(str(exc))

    async def go() -> T:
        db = Database(settings.effective_database_url, default_scope=OPERATOR)
        audit = LoketAudit(AuditLog(db, Pseudonymizer(master_key)))
        try:
            return await work(StaffService.build(db, master_key, audit=audit))
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except (StaffError, WeakPassword, ValueError) as exc:
        _fail(str(exc))


TenantOption = Annotated[str | None, typer.Option("--tenant", help="Tenant id (not for platform_admin).")]


@needs("create-user", "staff.manage")
def create_user(
    email: Annotated[str, typer.Argument(help="Email address; also the login name.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(r.value for r in Role)}.")],
    tenant: TenantOption = None,
) -> None:
    """Create an account; prints a temporary password, to be changed at first sign-in (with TOTP enrolment)."""
    parsed = _role(role)
    issued = _run(
        lambda staff: staff.accounts.create_user(None, email=email, display_name=name, role=parsed, tenant_id=tenant)
    )
    typer.echo(f"created {issued.user.email} ({issued.user.id}) as {parsed.value}")
    typer.echo(f"temporary password (shown once): {issued.temporary_password}")


@needs("reset-password", "staff.manage")
def reset_password(
    email: Annotated[str, typer.Argument(help="The account's email address.")],
    reset_totp: Annotated[bool, typer.Option("--reset-totp", help="Also make the user enrol TOTP again.")] = False,
) -> None:
    """Set a temporary password, end all sessions of the account and lift any lockout."""

    async def work(staff: StaffService) -> str:
        user = await staff.accounts.find_by_email(email)
        if user is None:
            raise StaffError(f"no account with the email {email}")
        return (await staff.accounts.reset_password(None, user.id, reset_totp=reset_totp)).temporary_password

    password = _run(work)
    typer.echo(f"temporary password (shown once): {password}")


@needs("list", "staff.manage")
def list_users(
    tenant: TenantOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Members of a tenant, or without --tenant the platform administrators."""
    users = _run(lambda staff: staff.accounts.list_users(None, tenant_id=tenant))
    rows = [
        {
            "id": user.id,
            "email": user.email,
            "roles": {m.tenant_id or "platform": m.role.value for m in user.memberships},
            "status": user.status,
            "totp_enrolled": user.totp_enrolled,
        }
        for user in users
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['id']}  {row['email']}  {row['roles']}  {row['status']}")


@needs("create-api-key", "apikeys.manage")
def create_api_key(
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant the key belongs to.")],
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. 'core banking events'.")],
    scope: Annotated[list[str], typer.Option("--scope", help=f"Repeatable; one of: {', '.join(SCOPES)}.")],
) -> None:
    """Create an API key for an institution's system; prints the key once."""
    issued = _run(lambda staff: staff.api_keys.create(None, name=name, scopes=list(scope), tenant_id=tenant))
    typer.echo(f"api key {issued.view.id} for {issued.view.tenant_id} ({', '.join(issued.view.scopes)})")
    typer.echo(f"key (shown once): {issued.key}")


def _role(value: str) -> Role:
    try:
        return parse_role(value)
    except ValueError as exc:
        _fail(str(exc))
