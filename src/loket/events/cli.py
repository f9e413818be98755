"""`loket events ...`: the signing secret and callback URL of a tenant's events API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from loket.config import load_settings
from loket.db.engine import Database
from loket.events.endpoints import EndpointError, EndpointStore
from loket.outbound.cli import run_with_db
from loket.security.secretbox import SecretBox

events_app = typer.Typer(
    help="The events API of institution systems: signing secrets, callback URLs.", no_args_is_help=True
)
err = Console(stderr=True)

TenantArgument = Annotated[str, typer.Option("--tenant", help="The tenant id.")]


def _store(db: Database) -> EndpointStore:
    return EndpointStore(db, SecretBox(load_settings().master_key_bytes))


@events_app.command("secret")
def rotate_secret(
    tenant: TenantArgument,
    callback_url: Annotated[str | None, typer.Option(help="Where Loket sends signed callbacks.")] = None,
    overlap_hours: Annotated[float, typer.Option(help="How long the previous secret keeps working.")] = 24.0,
) -> None:
    """Create (or rotate) the tenant's signing secret; it is printed once, on standard output."""
    from datetime import timedelta

    try:
        secret = run_with_db(
            lambda db: _store(db).rotate(tenant, callback_url=callback_url, overlap=timedelta(hours=overlap_hours))
        )
    except EndpointError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    typer.echo(secret)
    err.print("Give this secret to the institution's system; it will not be shown again.")


@events_app.command("callback-url")
def set_callback_url(tenant: TenantArgument, url: Annotated[str, typer.Argument(help="https://...")]) -> None:
    """Set where Loket sends the tenant's signed callbacks (confirmation decisions, undeliverable)."""
    try:
        run_with_db(lambda db: _store(db).set_callback_url(tenant, url))
    except EndpointError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    err.print("callback URL set")
