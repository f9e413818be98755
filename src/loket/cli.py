"""The `loket` command."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from loket.audit.cli import audit_app
from loket.clock import system_clock
from loket.complaints.cli import complaints_app
from loket.config import ConfigError, Settings, load_settings
from loket.console import demo_staff as _demo_staff  # noqa: F401  (registers `loket staff totp-now`)
from loket.core.port import CorePort
from loket.db.engine import Database
from loket.db.migrate import SchemaError, check_schema, current_revision, head_revision, upgrade
from loket.db.scope import OPERATOR, SEEDING, SystemReason, system_scope
from loket.events.cli import events_app
from loket.logging_setup import configure_logging
from loket.outbound.cli import outbox_app, templates_app
from loket.outbound.notice_cli import outbound_app
from loket.privacy.cli import privacy_app
from loket.security.cli import keys_app
from loket.staff.cli import staff_app

app = typer.Typer(
    help="Loket: a regulated service counter on WhatsApp for banks, insurers and lenders.",
    no_args_is_help=True,
    add_completion=False,
)
demo_app = typer.Typer(help="Run or seed the demo (SQLite, sandbox, demo institutions).", invoke_without_command=True)
app.add_typer(demo_app, name="demo")
app.add_typer(audit_app, name="audit")
app.add_typer(complaints_app, name="complaints")
app.add_typer(staff_app, name="staff")
app.add_typer(outbox_app, name="outbox")
app.add_typer(templates_app, name="templates")
app.add_typer(events_app, name="events")
app.add_typer(privacy_app, name="privacy")
app.add_typer(outbound_app, name="outbound")
app.add_typer(keys_app, name="keys")
err = Console(stderr=True)

HostOption = Annotated[str, typer.Option("--host", help="Interface to listen on.")]
PortOption = Annotated[int, typer.Option("--port", help="TCP port to listen on.")]


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code=2)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        _fail(str(exc))
        raise  # unreachable; keeps type checkers honest


@app.command()
def migrate() -> None:
    """Apply database migrations (LOKET_DATABASE_URL) up to this version's schema."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)

    async def run() -> str | None:
        db = Database(settings.effective_database_url, default_scope=OPERATOR)
        try:
            await upgrade(db)
            return await current_revision(db)
        finally:
            await db.dispose()

    try:
        revision = asyncio.run(run())
    except SchemaError as exc:
        _fail(str(exc))
    err.print(f"database schema at {revision} (head {head_revision()})")


def _core_for(settings: Settings, *, required: bool) -> CorePort:
    from loket.core.http import HttpCore
    from loket.core.unavailable import UnavailableCore

    if settings.core_url:
        return HttpCore(settings.core_url)
    if required:
        _fail("LOKET_CORE_URL is not set: processing needs the institution's core API (or run `loket demo`)")
    return UnavailableCore()


def _refuse_wrong_master_key(settings: Settings) -> None:
    """Encryption at rest: a master key that cannot open this database's keys stops here (ADR 0006)."""
    from loket.security.keycheck import check_master_key
    from loket.security.keys import MasterKeyError

    try:
        check_master_key(settings)
    except MasterKeyError as exc:
        _fail(str(exc))


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    with_worker: Annotated[bool, typer.Option(help="Also process and dispatch in this process.")] = False,
) -> None:
    """Run the API and the webhook receiver (background work belongs to `loket worker`)."""
    from loket.runtime import Runtime
    from loket.web.app import build_app

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _refuse_wrong_master_key(settings)
    runtime = Runtime.build(settings, core=_core_for(settings, required=with_worker))
    application = build_app(runtime, process=with_worker, dispatch=with_worker)
    uvicorn.run(application, host=host, port=port, log_config=None, access_log=False)


@app.command()
def worker() -> None:
    """Process the inbox, apply delivery statuses and dispatch the outbox, until stopped."""
    from loket.runtime import Runtime
    from loket.web.governance import audit_keyring, checkpoint_forever, install_audit_log

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _refuse_wrong_master_key(settings)

    async def run() -> None:
        runtime = Runtime.build(settings, core=_core_for(settings, required=True))
        try:
            await check_schema(runtime.db)
        except SchemaError as exc:
            await runtime.db.dispose()
            _fail(str(exc))
        await runtime.directory.refresh()
        install_audit_log(runtime)
        await runtime.start(process=True, dispatch=True)
        with system_scope(SystemReason.SCHEDULER):  # checkpoints sign every tenant's log
            checkpoints = asyncio.create_task(checkpoint_forever(audit_keyring(runtime)))
        # SIGTERM (and Ctrl-C) drain: claim nothing more, finish the sends in flight, put back the rest.
        stopping = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
        try:
            await stopping.wait()
        finally:
            checkpoints.cancel()
            await runtime.stop()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


@demo_app.callback()
def demo(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
) -> None:
    """Everything in one process: SQLite under ./var/, the sandbox, the demo institutions."""
    if ctx.invoked_subcommand is not None:
        return
    from loket.demo_server import run_demo
    from loket.security.keys import MasterKeyError

    try:
        run_demo(host, port)
    except (ConfigError, SchemaError, MasterKeyError) as exc:
        _fail(str(exc))


@demo_app.command("seed")
def demo_seed(
    as_json: Annotated[bool, typer.Option("--json", help="Print tenants and customers as JSON.")] = False,
) -> None:
    """Load the demo tenants into the database and list the demo customers."""
    from loket.core.demo.institution import DemoCore
    from loket.demo import demo_settings, seed_summary, seed_tenants
    from loket.security.secretbox import SecretBox

    settings = demo_settings("127.0.0.1", 8000)

    async def run() -> dict[str, object]:
        db = Database(settings.effective_database_url, default_scope=SEEDING)
        try:
            await upgrade(db)
            await seed_tenants(db, SecretBox(settings.master_key_bytes))
        finally:
            await db.dispose()
        return await seed_summary(DemoCore.generate(system_clock))

    summary = asyncio.run(run())
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        return
    for tenant in summary["tenants"]:  # type: ignore[attr-defined]
        err.print(f"{tenant['name']}: phone_number_id {tenant['phone_number_id']}")
    err.print(f"{len(summary['customers'])} demo customers; use --json to list them")  # type: ignore[arg-type]


@app.command()
def sandbox(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8081,
    webhook_url: Annotated[str, typer.Option(help="Where to deliver signed webhooks.")] = (
        "http://127.0.0.1:8000/webhooks/whatsapp"
    ),
    app_secret: Annotated[
        str | None, typer.Option(envvar="LOKET_META_APP_SECRET", help="Key for webhook signatures.")
    ] = None,
) -> None:
    """Run the Cloud API sandbox on its own, with the demo institutions' numbers and customers."""
    from loket.demo_server import build_standalone_sandbox

    if not app_secret:
        _fail("the sandbox signs webhooks: set LOKET_META_APP_SECRET or pass --app-secret")
    configure_logging("INFO", "json")
    application = build_standalone_sandbox(app_secret or "", webhook_url)
    uvicorn.run(application, host=host, port=port, log_config=None, access_log=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
