"""`loket complaints ...`: the OJK complaint report, APPK imports, the list and the SLA pass."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from loket.audit import AuditLog, EventType, Pseudonymizer, install
from loket.clock import system_clock
from loket.complaints.appk import ImportFileError, import_appk
from loket.complaints.queries import build_report, listing_rows
from loket.complaints.report import FORMATS
from loket.complaints.services import ComplaintServices
from loket.config import ConfigError, load_settings
from loket.db.engine import Database
from loket.db.scope import SystemReason, system_scope
from loket.security.secretbox import SecretBox

T = TypeVar("T")
complaints_app = typer.Typer(
    help="Complaints (pengaduan): OJK report, APPK import, list, SLA reminders.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)

TenantOption = Annotated[str, typer.Option("--tenant", help="The tenant (institution) id.")]
ByOption = Annotated[str, typer.Option("--by", help="Who is acting, for the audit log (e.g. your staff e-mail).")]


def _run(work: Callable[[ComplaintServices, Database, AuditLog], Awaitable[T]]) -> T:
    try:
        settings = load_settings()
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None

    async def run() -> T:
        db = Database(settings.effective_database_url)
        audit = AuditLog(db, Pseudonymizer(settings.master_key_bytes))
        install(audit)
        try:
            with system_scope(SystemReason.OPERATOR_CLI):
                services = ComplaintServices.build(settings, db=db, box=SecretBox(settings.master_key_bytes))
                return await work(services, db, audit)
        finally:
            install(None)
            await db.dispose()

    return asyncio.run(run())


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[bold red]error:[/] {name} must be YYYY-MM-DD, not {value!r}")
        raise typer.Exit(code=2) from None


@complaints_app.command()
def report(
    tenant: TenantOption,
    start: Annotated[str, typer.Option("--from", help="First day of the period, YYYY-MM-DD (WIB).")],
    end: Annotated[str, typer.Option("--to", help="Last day of the period, YYYY-MM-DD (WIB), inclusive.")],
    by: ByOption,
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or pdf.")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")] = None,
) -> None:
    """The complaint report of a period by product, cause, channel, status and timeliness (docs/complaints.md)."""
    first, last = _date(start, "--from"), _date(end, "--to")
    if last < first:
        err.print("[bold red]error:[/] --to is before --from")
        raise typer.Exit(code=2)
    if fmt not in FORMATS:
        err.print(f"[bold red]error:[/] --format must be one of {', '.join(FORMATS)}")
        raise typer.Exit(code=2)

    async def work(services: ComplaintServices, db: Database, audit: AuditLog) -> bytes:
        async with db.transaction() as session:
            built = await build_report(session, services.desk, tenant, first, last, system_clock.now())
            data = built.render(fmt)
            await audit.record(
                EventType.EXPORT_CREATED,
                tenant=tenant,
                fields={
                    "export": f"complaints:{first}:{last}",
                    "kind": f"complaint_report_{fmt}",
                    "by": by,
                    "rows": len(built.rows),
                    "sha256": hashlib.sha256(data).hexdigest(),
                },
                actor=by,
                session=session,
            )
            return data

    data = _run(work)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        err.print(f"wrote {output} ({len(data):,} bytes)")


@complaints_app.command("import-appk")
def import_appk_command(
    tenant: TenantOption,
    path: Annotated[Path, typer.Argument(help="CSV export of APPK tickets (columns: docs/complaints.md).")],
    by: ByOption,
) -> None:
    """Import OJK portal (APPK) tickets; bad rows are listed, good rows imported, repeats skipped."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None

    async def work(services: ComplaintServices, db: Database, audit: AuditLog) -> dict[str, object]:
        async with db.transaction() as session:
            result = await import_appk(session, services.desk, tenant, data, actor=by, now=system_clock.now())
            return result.as_dict()

    try:
        result = _run(work)
    except ImportFileError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    if result["errors"]:
        raise typer.Exit(code=1)


@complaints_app.command("list")
def list_command(
    tenant: TenantOption,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Open complaints first, by deadline, with the working days left (no personal data)."""

    async def work(services: ComplaintServices, db: Database, audit: AuditLog) -> list[dict[str, object]]:
        async with db.transaction() as session:
            return await listing_rows(session, services.desk, tenant, system_clock.now())

    rows = _run(work)
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
        return
    table = Table(title=f"complaints of {tenant}")
    columns = ("reference", "status", "channel", "product", "due_date", "remaining", "urgency")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c] if row[c] is not None else "") for c in columns))
    out.print(table)


@complaints_app.command()
def sweep() -> None:
    """Run the SLA pass once: reminders before deadlines and escalations when breached."""

    async def work(services: ComplaintServices, db: Database, audit: AuditLog) -> int:
        return await services.run_once()

    made = _run(work)
    out.print(f"{made} alert(s) made")
