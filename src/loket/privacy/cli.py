"""`loket privacy ...`: data-subject requests, exports, legal holds and retention purges, for the
compliance officer and the operator (docs/privacy.md). Every change is audited."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from loket.audit import AuditLog, Pseudonymizer
from loket.clock import system_clock
from loket.config import ConfigError, load_settings
from loket.db.engine import Database
from loket.db.migrate import SchemaError, check_schema
from loket.db.scope import SystemReason, system_scope
from loket.privacy import holds, requests, retention
from loket.privacy.model import Right, Status, TransitionError
from loket.privacy.service import PrivacyService
from loket.security.keycheck import keyring_from_settings
from loket.security.keystore import KeyStore
from loket.security.secretbox import SecretBox

T = TypeVar("T")
privacy_app = typer.Typer(
    help="Data-subject requests under UU PDP, legal holds and the retention purge.", no_args_is_help=True
)
hold_app = typer.Typer(
    help="Legal holds: keep a customer's or a whole tenant's data from erasure and purges.", no_args_is_help=True
)
privacy_app.add_typer(hold_app, name="hold")
out = Console()
err = Console(stderr=True)

TenantArg = Annotated[str, typer.Option("--tenant", help="The tenant (institution) id.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ByOption = Annotated[str, typer.Option("--by", help="Who is acting, for the audit log (e.g. your staff e-mail).")]


def _run(work: Callable[[Database, AuditLog, bytes], Awaitable[T]]) -> T:
    try:
        settings = load_settings()
        master_key = settings.master_key_bytes  # every step is audited: the log needs the key
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None

    async def run() -> T:
        db = Database(settings.effective_database_url)
        try:
            with system_scope(SystemReason.OPERATOR_CLI):
                await check_schema(db)
                return await work(db, AuditLog(db, Pseudonymizer(master_key)), master_key)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except (TransitionError, requests.RequestNotFound, holds.HoldError, retention.RetentionError, SchemaError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=1) from None


def _emit(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _actor(by: str) -> str:
    return f"cli:{by}"[:80]


@privacy_app.command("list")
def list_requests(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant.")] = None,
    status: Annotated[list[Status] | None, typer.Option("--status", help="Only these statuses.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open requests past 3x24 hours.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Data-subject requests, oldest deadline first."""

    async def work(db: Database, _log: AuditLog, _key: bytes) -> list[dict[str, object]]:
        now = system_clock.now()
        async with db.transaction() as session:
            rows = await requests.find(session, tenant, statuses=status or [], overdue_at=now if overdue else None)
            return [requests.request_json(row, now) for row in rows]

    found = _run(work)
    if as_json:
        _emit(found)
        return
    table = Table(title="data-subject requests")
    for column in ("reference", "tenant", "right", "status", "received", "due", "overdue"):
        table.add_column(column)
    for item in found:
        table.add_row(
            str(item["reference"]),
            str(item["tenant_id"]),
            str(item["right"]),
            str(item["status"]),
            str(item["received_at"])[:16],
            str(item["due_at"])[:16],
            "yes" if item["overdue"] else "",
        )
    out.print(table)


@privacy_app.command()
def show(reference: str, tenant: TenantArg) -> None:
    """One request with its evidence (JSON)."""

    async def work(db: Database, _log: AuditLog, _key: bytes) -> dict[str, object]:
        async with db.transaction() as session:
            return requests.request_json(await requests.get(session, tenant, reference), system_clock.now())

    _emit(_run(work))


@privacy_app.command()
def export(
    reference: str,
    tenant: TenantArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write <reference>.json and .pdf into.")],
    by: ByOption,
) -> None:
    """Write the export of a verified access request as JSON and PDF (audited as an export)."""

    async def work(db: Database, log: AuditLog, key: bytes) -> dict[str, object]:
        keys = KeyStore(keyring_from_settings(load_settings()), dialect=db.dialect)
        service = PrivacyService(db, log, box=SecretBox(key), keys=keys)
        async with db.transaction() as session:
            row = await requests.get(session, tenant, reference)
            if Right(row.right) is not Right.ACCESS or row.verified_at is None:
                raise TransitionError("only a verified access request has an export")
            built = await service.build_export(session, row, actor=_actor(by))
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{reference}.json").write_bytes(built.json)
        (out_dir / f"{reference}.pdf").write_bytes(built.pdf)
        return {"rows": built.rows, "json_sha256": built.json_sha256, "pdf_sha256": built.pdf_sha256}

    _emit(_run(work))


@privacy_app.command()
def reject(
    reference: str, tenant: TenantArg, reason: Annotated[str, typer.Option(help="A reason code.")], by: ByOption
) -> None:
    """Reject a request with a reason code (identity_not_verified, legal_hold, duplicate, ...)."""

    async def work(db: Database, log: AuditLog, _key: bytes) -> dict[str, object]:
        now = system_clock.now()
        async with db.transaction() as session:
            row = await requests.get(session, tenant, reference, lock=True)
            await requests.advance(session, log, row, Status.REJECTED, actor=_actor(by), now=now, reason=reason)
            return requests.request_json(row, now)

    _emit(_run(work))


@privacy_app.command()
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be purged; delete nothing.")] = False,
    tenant: Annotated[list[str] | None, typer.Option("--tenant", help="Only these tenants.")] = None,
    days: Annotated[
        list[str] | None, typer.Option("--days", help="Override a period, e.g. --days messages=180 (repeatable).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Apply the retention policy: delete what is older than each data class's period, except what a
    legal hold covers; the report is stored and audited."""
    overrides: dict[str, int] = {}
    for item in days or []:
        name, _, value = item.partition("=")
        if not value.isdigit():
            err.print(f"[bold red]error:[/] --days expects class=days, e.g. messages=180, not {item!r}")
            raise typer.Exit(code=2)
        overrides[name] = int(value)

    async def work(db: Database, log: AuditLog, _key: bytes) -> dict[str, object]:
        report = await retention.purge(
            db, log, now=system_clock.now(), dry_run=dry_run, days=overrides, tenants=tenant, actor="cli:purge"
        )
        return report.to_json()

    report = _run(work)
    if as_json:
        _emit(report)
        return
    title = "retention purge (dry run: nothing deleted)" if dry_run else "retention purge"
    table = Table(title=title)
    for column in ("tenant", "data class", "purged", "kept (legal hold)"):
        table.add_column(column)
    tenants = report["tenants"]
    assert isinstance(tenants, dict)
    for tenant_id, entry in tenants.items():
        for name, count in entry["purged"].items():
            table.add_row(tenant_id, name, f"{count:,}", f"{entry['held'].get(name, 0):,}")
    out.print(table)
    out.print("The audit log is never purged.")


@hold_app.command("set")
def hold_set(
    tenant: TenantArg,
    reason: Annotated[str, typer.Option(help="A reason code, e.g. litigation or ojk_examination.")],
    by: ByOption,
    wa_id: Annotated[str | None, typer.Option("--wa-id", help="The customer; omit to hold the whole tenant.")] = None,
    case_ref: Annotated[str | None, typer.Option("--case", help="The case or letter reference.")] = None,
) -> None:
    """Set a legal hold."""

    async def work(db: Database, log: AuditLog, _key: bytes) -> dict[str, object]:
        async with db.transaction() as session:
            row = await holds.set_hold(
                session,
                log,
                tenant_id=tenant,
                wa_id=wa_id,
                reason=reason,
                case_ref=case_ref,
                actor=_actor(by),
                now=system_clock.now(),
            )
            return holds.hold_json(row)

    _emit(_run(work))


@hold_app.command("lift")
def hold_lift(hold_id: int, tenant: TenantArg, by: ByOption) -> None:
    """Lift a legal hold."""

    async def work(db: Database, log: AuditLog, _key: bytes) -> dict[str, object]:
        async with db.transaction() as session:
            row = await holds.lift_hold(
                session, log, tenant_id=tenant, hold_id=hold_id, actor=_actor(by), now=system_clock.now()
            )
            return holds.hold_json(row)

    _emit(_run(work))


@hold_app.command("list")
def hold_list(tenant: TenantArg, include_lifted: Annotated[bool, typer.Option("--all")] = False) -> None:
    """Legal holds of a tenant (active ones; --all for lifted too)."""

    async def work(db: Database, _log: AuditLog, _key: bytes) -> list[dict[str, object]]:
        async with db.transaction() as session:
            return [holds.hold_json(r) for r in await holds.list_holds(session, tenant, include_lifted=include_lifted)]

    _emit(_run(work))
