"""`loket keys ...`: the state of the key hierarchy, and online rotation (docs/encryption.md)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loket.audit.canonical import Pseudonymizer
from loket.audit.log import AuditLog, install
from loket.config import ConfigError, load_settings
from loket.db.engine import Database
from loket.db.scope import OPERATOR
from loket.security.envelope import CryptoError
from loket.security.keycheck import keyring_from_settings, verify_master_keys
from loket.security.keystore import KeyStore
from loket.security.rotation import RotationReport, key_status, master_key_status, rotate

keys_app = typer.Typer(help="Encryption at rest: key status and online key rotation.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code=2)


@keys_app.command("status")
def status_command(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Per tenant: the current KEK version, its master key, live data keys per version, shredded keys."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(str(exc))
        return

    async def run() -> dict[str, object]:
        db = Database(settings.effective_database_url, default_scope=OPERATOR)
        try:
            scopes = await key_status(db)
            masters = await master_key_status(db)
        finally:
            await db.dispose()
        configured = set(keyring_from_settings(settings).ids)
        return {
            "scopes": [
                {
                    "scope": s.scope,
                    "current_version": s.current_version,
                    "master_key": s.current_master,
                    "keys_by_version": {str(v): n for v, n in sorted(s.keys_by_version.items())},
                    "lagging": s.lagging,
                    "shredded": s.shredded,
                }
                for s in scopes
            ],
            "master_keys": [
                {"id": key_id, "retired": retired, "configured": key_id in configured} for key_id, retired in masters
            ],
        }

    result = asyncio.run(run())
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    table = Table(title="key-encryption keys")
    for column in ("scope", "version", "master key", "data keys by version", "lagging", "shredded"):
        table.add_column(column)
    for row in result["scopes"]:  # type: ignore[attr-defined]
        by_version = ", ".join(f"v{v}: {n:,}" for v, n in row["keys_by_version"].items()) or "-"
        lagging = str(row["lagging"]) if row["lagging"] else "0"
        table.add_row(
            row["scope"], str(row["current_version"]), row["master_key"], by_version, lagging, str(row["shredded"])
        )
    out.print(table)
    for master in result["master_keys"]:  # type: ignore[attr-defined]
        state = "retired: may be removed from LOKET_MASTER_KEY_PREVIOUS" if master["retired"] else "in use"
        configured = "configured" if master["configured"] else "NOT configured"
        out.print(f"master key {master['id']}: {state} ({configured})")


@keys_app.command("rotate")
def rotate_command(
    tenant: Annotated[list[str] | None, typer.Option("--tenant", help="Only this tenant (repeatable).")] = None,
    resume_only: Annotated[
        bool, typer.Option("--resume-only", help="Only finish an interrupted rotation or a master key change.")
    ] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=10_000, help="Keys per transaction.")] = 500,
) -> None:
    """Re-wrap every data key under a new KEK version, online and resumably.

    Old data stays readable throughout. An interrupted run is finished by the next one. After a
    master key change (new LOKET_MASTER_KEY, old one in LOKET_MASTER_KEY_PREVIOUS) this moves
    every tenant to the new master key.
    """
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(str(exc))
        return

    async def run() -> RotationReport:
        db = Database(settings.effective_database_url, default_scope=OPERATOR)
        try:
            keyring = keyring_from_settings(settings)
            await verify_master_keys(db, keyring)
            keys = KeyStore(keyring, dialect=db.dialect)
            install(AuditLog(db, Pseudonymizer(settings.master_key_bytes)))  # each rotation is a key.changed fact

            def progress(scope: str, done: int, left: int) -> None:
                err.print(f"{scope}: {done:,} re-wrapped, {left:,} to go")

            return await rotate(
                db, keys, scopes=tenant or None, new_version=not resume_only, batch_size=batch_size, progress=progress
            )
        finally:
            await db.dispose()

    try:
        report = asyncio.run(run())
    except CryptoError as exc:
        _fail(str(exc))
        return
    for scope, version in report.resumed.items():
        out.print(f"{scope}: finished the rotation to KEK v{version}")
    for scope, version in report.started.items():
        out.print(f"{scope}: rotated to KEK v{version}")
    out.print(f"{report.rewrapped:,} keys re-wrapped")
    for scope, version in report.retired_versions:
        out.print(f"{scope}: KEK v{version} retired")
    for key_id in report.retired_masters:
        out.print(f"master key {key_id} retired: it may be removed from LOKET_MASTER_KEY_PREVIOUS")
