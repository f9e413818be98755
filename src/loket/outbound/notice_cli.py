"""`loket outbound notice send|status`: an account notice from the operator's terminal, with a
progress bar that follows it from queueing to the last message sent.

The command queues the messages itself (batch by batch, as the worker's job would, and safely
alongside it); the `loket worker` processes send them.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import secrets
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from loket.config import ConfigError, Settings, load_settings
from loket.db.engine import Database
from loket.db.scope import SystemReason, system_scope
from loket.outbound.notice_request import NoticeRejected, parse_request
from loket.outbound.notices import NoticeService
from loket.outbound.tables import NoticeCampaign, Recipient
from loket.security.secretbox import SecretBox
from loket.tenancy.directory import PhoneDirectory

outbound_app = typer.Typer(help="The outbound engine: account notices to customers.", no_args_is_help=True)
notice_app = typer.Typer(help="Account notices to all or a segment of a tenant's customers.", no_args_is_help=True)
outbound_app.add_typer(notice_app, name="notice")
err = Console(stderr=True)

TenantOption = Annotated[str, typer.Option("--tenant", help="The tenant id.")]
POLL_SECONDS = 0.5


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None


def _service(settings: Settings, db: Database) -> NoticeService:
    from loket.audit.canonical import Pseudonymizer
    from loket.audit.log import AuditLog, install

    install(AuditLog(db, Pseudonymizer(settings.master_key_bytes)))
    return NoticeService(db, PhoneDirectory(db, SecretBox(settings.master_key_bytes)))


def _request(
    notice_id: str | None,
    kind: str,
    title: str,
    body: str,
    title_en: str | None,
    body_en: str | None,
    effective: datetime | None,
    languages: list[str],
    zones: list[str],
    products: list[str],
    customers_file: Path | None,
) -> dict[str, Any]:
    content: dict[str, Any] = {"id": {"title": title, "body": body}}
    if title_en or body_en:
        content["en"] = {"title": title_en or title, "body": body_en or body}
    segment: dict[str, Any] = {}
    if languages:
        segment["languages"] = languages
    if zones:
        segment["zones"] = zones
    if products:
        segment["products"] = products
    if customers_file is not None:
        try:
            lines = customers_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            err.print(f"[bold red]error:[/] cannot read {customers_file}: {exc.strerror}")
            raise typer.Exit(code=2) from None
        segment["customer_ids"] = [line.strip() for line in lines if line.strip()]
    request: dict[str, Any] = {
        "id": notice_id or f"cli-{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}",
        "kind": kind,
        "content": content,
        "segment": segment,
    }
    if effective is not None:
        if effective.tzinfo is None:
            err.print("[bold red]error:[/] --effective needs a time zone, e.g. 2027-01-01T00:00:00+07:00")
            raise typer.Exit(code=2)
        request["effective_at"] = effective.isoformat()
    return request


@notice_app.command("send")
def send(
    tenant: TenantOption,
    title: Annotated[str, typer.Option(help="The title, in Bahasa Indonesia.")],
    body: Annotated[str, typer.Option(help="The text, in Bahasa Indonesia.")],
    kind: Annotated[str, typer.Option(help="terms, fees, maintenance or other.")] = "other",
    title_en: Annotated[str | None, typer.Option(help="The title for customers who chose English.")] = None,
    body_en: Annotated[str | None, typer.Option(help="The text for customers who chose English.")] = None,
    effective: Annotated[
        datetime | None, typer.Option(help="When it takes effect, with its zone.", formats=["%Y-%m-%dT%H:%M:%S%z"])
    ] = None,
    language: Annotated[list[str] | None, typer.Option(help="Only customers of this language (id, en).")] = None,
    zone: Annotated[list[str] | None, typer.Option(help="Only customers in this zone (WIB, WITA, WIT).")] = None,
    product: Annotated[
        list[str] | None, typer.Option(help="Only customers with an account of this product (a part of its name).")
    ] = None,
    customers: Annotated[Path | None, typer.Option(help="Only these customer ids: a file, one per line.")] = None,
    notice_id: Annotated[str | None, typer.Option("--id", help="Your id for it; sending it again is a no-op.")] = None,
    wait: Annotated[bool, typer.Option(help="Follow it until every message is sent or failed.")] = True,
    timeout: Annotated[float, typer.Option(help="Stop following after this many seconds.")] = 3600.0,
) -> None:
    """Queue a notice to every customer in the segment and follow it with a progress bar."""
    settings = _settings()
    raw = _request(
        notice_id, kind, title, body, title_en, body_en, effective, language or [], zone or [], product or [], customers
    )
    by = f"cli:{getpass.getuser()}"

    async def run() -> int:
        db = Database(settings.effective_database_url)
        try:
            notices = _service(settings, db)
            try:
                campaign, replayed = await notices.create(tenant, parse_request(raw), by=by)
            except NoticeRejected as exc:
                err.print(f"[bold red]error:[/] {exc}")
                return 2
            err.print(f"notice {campaign.request_id} ({campaign.id}){' already existed' if replayed else ''}")
            return await _follow(db, notices, campaign, wait=wait, timeout=timeout)
        finally:
            await db.dispose()

    with system_scope(SystemReason.OPERATOR_CLI):
        code = asyncio.run(run())
    if code:
        raise typer.Exit(code=code)


async def _known_customers(db: Database, tenant_id: str) -> int:
    async with db.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Recipient)
            .where(Recipient.tenant_id == tenant_id, Recipient.customer_id.is_not(None))
        )
    return int(count or 0)


async def _follow(db: Database, notices: NoticeService, campaign: NoticeCampaign, *, wait: bool, timeout: float) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        queueing = bar.add_task("queueing", total=await _known_customers(db, campaign.tenant_id))
        sending = bar.add_task("sending", total=None, visible=wait)
        while True:
            current = await notices.get(campaign.tenant_id, campaign.request_id)
            assert current is not None
            if current.state == "fanning_out":
                if not await notices.fan_out(campaign_id=current.id):
                    await asyncio.sleep(POLL_SECONDS)  # a worker holds this batch
                bar.update(queueing, completed=current.scanned)
                continue
            bar.update(queueing, total=current.scanned, completed=current.scanned)
            if not wait:
                err.print(f"{current.matched:,} messages queued; follow with `loket outbound notice status`")
                return 0
            progress = await notices.progress(current)
            bar.update(
                sending,
                total=current.matched,
                completed=progress.finished,
                description=f"sending ({progress.failed:,} failed)" if progress.failed else "sending",
            )
            if progress.waiting == 0:
                err.print(
                    f"done: {progress.sent:,} sent ({progress.delivered:,} delivered), {progress.failed:,} failed"
                )
                return 0
            if loop.time() > deadline:
                err.print(f"{progress.waiting:,} still waiting; is a `loket worker` running?")
                return 1
            await asyncio.sleep(POLL_SECONDS)


@notice_app.command("status")
def status(
    tenant: TenantOption,
    notice_id: Annotated[str, typer.Argument(help="The notice's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """A notice's progress: queued, sent, delivered, read, failed."""
    settings = _settings()

    async def run() -> dict[str, Any] | None:
        db = Database(settings.effective_database_url)
        try:
            notices = NoticeService(db, PhoneDirectory(db, SecretBox(settings.master_key_bytes)))
            campaign = await notices.get(tenant, notice_id)
            return None if campaign is None else await notices.status(campaign)
        finally:
            await db.dispose()

    with system_scope(SystemReason.OPERATOR_CLI):
        found = asyncio.run(run())
    if found is None:
        err.print(f"[bold red]error:[/] no notice {notice_id!r} for tenant {tenant!r}")
        raise typer.Exit(code=1)
    if as_json:
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
        return
    p = found["progress"]
    typer.echo(
        f"{found['id']} ({found['kind']}): {found['state']}; {found['recipients']:,} recipients, "
        f"{p['sent']:,} sent, {p['delivered']:,} delivered, {p['read']:,} read, {p['failed']:,} failed, "
        f"{p['waiting']:,} waiting"
    )
