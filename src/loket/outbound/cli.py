"""`loket outbox ...`: queue depth, dead letters, retry and cancel, for operators."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from loket.config import ConfigError, load_settings
from loket.db.engine import Database
from loket.db.scope import OPERATOR
from loket.outbound import admin

T = TypeVar("T")

outbox_app = typer.Typer(
    help="Inspect and steer the outbox: status, dead letters, retry, cancel.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
TenantOption = Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")]


def run_with_db(work: Callable[[Database], Awaitable[T]]) -> T:
    try:
        settings = load_settings()
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None

    async def run() -> T:
        db = Database(settings.effective_database_url, default_scope=OPERATOR)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


@outbox_app.command()
def status(as_json: JsonOption = False) -> None:
    """Queue depth by state and priority, the oldest due row, the send rate per number, the workers."""
    result = run_with_db(admin.queue_status)
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
        return
    table = Table(title="outbox rows")
    for column in ("state", "priority", "rows"):
        table.add_column(column)
    for (state, priority), count in sorted(result.depth.items()):
        table.add_row(state, str(priority), f"{count:,}")
    out.print(table)
    oldest = "-" if result.oldest_due_seconds is None else f"{result.oldest_due_seconds:,.1f} s"
    out.print(f"due now: {result.due_now:,}  scheduled later: {result.scheduled_later:,}  oldest due: {oldest}")
    for rate in result.rates:
        out.print(
            f"number {rate.phone_number_id}: {rate.rate:,.1f} msg/s over the last minute "
            f"(configured {rate.configured_mps}/s)"
        )
    for worker, process, age, stopped in result.workers:
        state = "stopped" if stopped else f"heartbeat {age:,.0f} s ago"
        out.print(f"worker {worker} ({process}): {state}")


@outbox_app.command("dead-letters")
def dead_letters(
    tenant: TenantOption = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    include_failed: Annotated[bool, typer.Option(help="Also failed, undeliverable and refused rows.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Rows that need an operator: dead-lettered after their deadline, or needing set-up fixed."""
    states = ("dead", "failed", "undeliverable", "refused") if include_failed else ("dead",)
    rows = run_with_db(lambda db: admin.dead_letters(db, tenant_id=tenant, states=states, limit=limit))
    if as_json:
        data = [{**row.__dict__, "created_at": row.created_at.isoformat()} for row in rows]
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{len(rows)} rows")
    for column in ("id", "tenant", "to", "purpose", "state", "attempts", "code", "reason"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.tenant_id,
            row.recipient,
            row.purpose,
            row.state,
            str(row.attempts),
            str(row.error_code or ""),
            (row.reason or "")[:80],
        )
    out.print(table)


@outbox_app.command()
def retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Outbox ids to queue again.")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Every dead-lettered row.")] = False,
    tenant: TenantOption = None,
) -> None:
    """Queue rows again now with a fresh deadline. An `unknown` row may already have been delivered:
    check the chat first."""
    if not ids and not all_dead:
        err.print("[bold red]error:[/] give outbox ids or --all-dead")
        raise typer.Exit(code=2)
    count = run_with_db(lambda db: admin.retry(db, ids or [], all_dead=all_dead, tenant_id=tenant))
    err.print(f"{count} rows queued again")


@outbox_app.command()
def cancel(ids: Annotated[list[int], typer.Argument(help="Outbox ids to cancel.")]) -> None:
    """Cancel queued, dead or unknown rows: they will not be sent."""
    count = run_with_db(lambda db: admin.cancel(db, ids))
    err.print(f"{count} rows cancelled")


templates_app = typer.Typer(
    help="Loket's utility templates: submit them to Meta, sync their status.", no_args_is_help=True
)


async def _wabas(db: Database, tenant: str | None) -> list[tuple[str, str, str]]:
    """(tenant_id, waba_id, access token) for each WABA, one number's token each."""
    from loket.security.secretbox import SecretBox
    from loket.tenancy.directory import PhoneDirectory

    settings = load_settings()
    directory = PhoneDirectory(db, SecretBox(settings.master_key_bytes))
    seen: dict[str, tuple[str, str, str]] = {}
    for number in await directory.numbers():
        if (tenant is None or number.tenant_id == tenant) and number.waba_id not in seen:
            token = await directory.access_token(number.phone_number_id)
            seen[number.waba_id] = (number.tenant_id, number.waba_id, token)
    return list(seen.values())


@templates_app.command("submit")
def submit_templates(tenant: TenantOption = None) -> None:
    """Create Loket's templates (id and en) on each WABA; ones that exist already are left alone."""
    from loket.clock import system_clock
    from loket.outbound.templates import DEFINITIONS, TemplateApi, store_templates

    settings = load_settings()
    api = TemplateApi(settings.graph_api_url)

    async def work(db: Database) -> int:
        failures = 0
        for tenant_id, waba_id, token in await _wabas(db, tenant):
            results = await api.submit(waba_id, token, DEFINITIONS)
            for result in results:
                failures += result.outcome == "error"
                out.print(
                    f"{tenant_id} {waba_id} {result.name} [{result.language}]: {result.outcome} {result.detail or ''}"
                )
            created = [r.as_listing() | {"category": r.category} for r in results if r.outcome == "created"]
            await store_templates(db, waba_id, created, system_clock.now())
            await store_templates(db, waba_id, await api.fetch(waba_id, token), system_clock.now())
        return failures

    if run_with_db(work):
        raise typer.Exit(code=1)


@templates_app.command("sync")
def sync_templates(tenant: TenantOption = None) -> None:
    """Read every template of each WABA from Meta and store its category and status."""
    from loket.clock import system_clock
    from loket.outbound.templates import TemplateApi, store_templates

    settings = load_settings()
    api = TemplateApi(settings.graph_api_url)

    async def work(db: Database) -> None:
        for tenant_id, waba_id, token in await _wabas(db, tenant):
            count = await store_templates(db, waba_id, await api.fetch(waba_id, token), system_clock.now())
            out.print(f"{tenant_id} {waba_id}: {count} templates")

    run_with_db(work)


@templates_app.command("list")
def list_templates(as_json: JsonOption = False) -> None:
    """The templates Loket knows, with their status."""
    from sqlalchemy import select

    from loket.outbound.tables import MessageTemplate

    async def work(db: Database) -> list[tuple[str, str, str, str, str]]:
        async with db.sessions() as session:
            rows = await session.execute(
                select(
                    MessageTemplate.waba_id,
                    MessageTemplate.name,
                    MessageTemplate.language,
                    MessageTemplate.category,
                    MessageTemplate.status,
                ).order_by(MessageTemplate.waba_id, MessageTemplate.name, MessageTemplate.language)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]

    rows = run_with_db(work)
    if as_json:
        keys = ("waba_id", "name", "language", "category", "status")
        sys.stdout.write(json.dumps([dict(zip(keys, row, strict=True)) for row in rows], indent=2) + "\n")
        return
    for row in rows:
        out.print("  ".join(row))
