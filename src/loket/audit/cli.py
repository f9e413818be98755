"""`loket audit ...`: verify, export, proofs, checkpoints, keys and the examiner's report."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from loket.audit.events import EventType
from loket.audit.keys import KeyRing
from loket.audit.log import AuditLog
from loket.audit.note import PublicKey
from loket.audit.verify import VerifyReport
from loket.db.scope import OPERATOR

audit_app = typer.Typer(help="The verifiable audit trail: verify, export evidence, proofs, keys, reports.")
proof_app = typer.Typer(help="Inclusion and consistency proofs (RFC 9162) from the live log.")
keys_app = typer.Typer(help="Checkpoint signing keys.")
audit_app.add_typer(proof_app, name="proof")
audit_app.add_typer(keys_app, name="keys")
err = Console(stderr=True)
T = TypeVar("T")

TenantOpt = Annotated[str, typer.Option("--tenant", help="Tenant id.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DbOpt = Annotated[str | None, typer.Option("--database-url", help="Overrides LOKET_DATABASE_URL.")]


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"{text!r}: expected an ISO date or datetime, e.g. 2026-11-01 or 2026-11-01T00:00+07:00")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class Ctx:
    ring: KeyRing
    log: AuditLog


def _run(work: Callable[[Any], Awaitable[T]], database_url: str | None = None, *, keyring: bool = False) -> T:
    """Run `work(db)`, or `work(Ctx(keyring, log))` with `keyring=True`, against the configured database."""
    from loket.audit.canonical import Pseudonymizer
    from loket.audit.keys import origin_base_from_url
    from loket.config import ConfigError, load_settings
    from loket.db.engine import Database
    from loket.db.migrate import SchemaError, check_schema
    from loket.security.secretbox import SecretBox

    try:
        settings = load_settings(**({"database_url": database_url} if database_url else {}))
    except ConfigError as exc:
        _fail(str(exc))

    async def go() -> T:
        db = Database(settings.effective_database_url, default_scope=OPERATOR)
        try:
            await check_schema(db)
            if not keyring:
                return await work(db)
            log = AuditLog(db, Pseudonymizer(settings.master_key_bytes))
            ring = KeyRing(
                db, SecretBox(settings.master_key_bytes), origin_base=origin_base_from_url(settings.public_url)
            )
            return await work(Ctx(ring, log))
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except (SchemaError, ConfigError) as exc:
        _fail(str(exc))


def _load_keys(path: Path | None) -> list[PublicKey] | None:
    if path is None:
        return None
    data = json.loads(path.read_text())
    return [PublicKey.from_json(k) for k in (data["keys"] if isinstance(data, dict) else data)]


def _emit(report: VerifyReport, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(report.lines()) + "\n")


def _bar() -> Progress:
    return Progress(BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True)


@audit_app.command()
def verify(
    bundle: Annotated[
        Path | None, typer.Argument(help="An evidence bundle (.zip); omit to verify the database.")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant to verify in the database (default: all).")] = None,
    keys: Annotated[Path | None, typer.Option(help="Pinned public keys (JSON from GET /v1/audit/keys).")] = None,
    checkpoint: Annotated[
        list[Path] | None, typer.Option(help="A checkpoint you kept earlier (repeatable): detects forks.")
    ] = None,
    as_json: JsonOpt = False,
    database_url: DbOpt = None,
) -> None:
    """Recompute every leaf and root, check every checkpoint; report the first bad index. Exit 1 if bad."""
    pinned = _load_keys(keys)
    trusted = [p.read_text() for p in checkpoint or []]
    if bundle is not None:
        from loket.audit.bundle import BundleError, verify_bundle

        try:
            with _bar() as bar:
                task = bar.add_task("verifying", total=None)
                report = verify_bundle(
                    bundle, keys=pinned, trusted=trusted, progress=lambda d, t: bar.update(task, completed=d, total=t)
                )
        except (BundleError, OSError, ValueError, KeyError) as exc:
            _fail(f"{bundle}: {exc}")
        _emit(report, as_json)
        raise typer.Exit(0 if report.ok else 1)

    from loket.audit.store import heads
    from loket.audit.verify_db import verify_database

    async def work(db: Any) -> list[VerifyReport]:
        async with db.sessions() as session:
            tenants = [tenant] if tenant else [h.tenant for h in await heads(session)]
        return [await verify_database(db, t, keys=pinned, trusted=trusted) for t in tenants]

    reports = _run(work, database_url)
    for report in reports:
        _emit(report, as_json)
    raise typer.Exit(0 if all(r.ok for r in reports) else 1)


@audit_app.command()
def export(
    tenant: TenantOpt,
    start: Annotated[str, typer.Option("--from", help="Start of the period (ISO date/datetime, UTC if no offset).")],
    end: Annotated[str, typer.Option("--to", help="End of the period, exclusive.")],
    out: Annotated[Path, typer.Option("--out", help="The bundle to write (.zip).")],
    by: Annotated[str, typer.Option(help="Who exports (recorded in the log).")] = "cli",
    database_url: DbOpt = None,
) -> None:
    """Write an evidence bundle an examiner can verify offline with `loket audit verify FILE.zip`."""
    from loket.audit.bundle import BundleError, export_bundle

    async def work(ctx: Ctx) -> Any:
        with _bar() as bar:
            task = bar.add_task("exporting", total=None)
            summary = await export_bundle(
                ctx.ring,
                tenant,
                _when(start),
                _when(end),
                out,
                progress=lambda d, t: bar.update(task, completed=d, total=t),
            )
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
        fields = {
            "export": out.name,
            "kind": "audit_bundle",
            "by": by,
            "rows": summary.end - summary.first,
            "sha256": digest,
        }
        await ctx.log.record(EventType.EXPORT_CREATED, tenant=tenant, actor=by, fields=fields)
        return summary

    try:
        summary = _run(work, database_url, keyring=True)
    except BundleError as exc:
        _fail(str(exc))
    err.print(f"wrote {out}: entries {summary.first}..{summary.end - 1}, proven against tree size {summary.tree_size}")


@proof_app.command("inclusion")
def proof_inclusion(
    tenant: TenantOpt,
    index: Annotated[int, typer.Option(help="Entry index.")],
    size: Annotated[int | None, typer.Option(help="Tree size (default: latest checkpoint).")] = None,
    database_url: DbOpt = None,
) -> None:
    """Print the inclusion proof of one entry as JSON."""
    from loket.audit.checkpoints import inclusion_proof, latest_checkpoint
    from loket.audit.merkle import ProofError

    async def work(db: Any) -> dict[str, Any]:
        async with db.sessions() as session:
            latest = await latest_checkpoint(session, tenant)
            tree = size or (latest.size if latest else 0)
            leaf, proof = await inclusion_proof(session, tenant, index, tree)
        b64 = [base64.b64encode(p).decode() for p in proof]
        return {
            "tenant": tenant,
            "index": index,
            "tree_size": tree,
            "leaf_hash": base64.b64encode(leaf).decode(),
            "proof": b64,
        }

    try:
        sys.stdout.write(json.dumps(_run(work, database_url), indent=2) + "\n")
    except ProofError as exc:
        _fail(str(exc))


@proof_app.command("consistency")
def proof_consistency(
    tenant: TenantOpt,
    first: Annotated[int, typer.Option(help="The earlier tree size.")],
    second: Annotated[int | None, typer.Option(help="The later tree size (default: latest checkpoint).")] = None,
    database_url: DbOpt = None,
) -> None:
    """Print the consistency proof between two tree sizes as JSON."""
    from loket.audit.checkpoints import consistency_proof, latest_checkpoint
    from loket.audit.merkle import ProofError

    async def work(db: Any) -> dict[str, Any]:
        async with db.sessions() as session:
            latest = await latest_checkpoint(session, tenant)
            tree = second if second is not None else (latest.size if latest else 0)
            proof = await consistency_proof(session, tenant, first, tree)
        return {
            "tenant": tenant,
            "first": first,
            "second": tree,
            "proof": [base64.b64encode(p).decode() for p in proof],
        }

    try:
        sys.stdout.write(json.dumps(_run(work, database_url), indent=2) + "\n")
    except ProofError as exc:
        _fail(str(exc))


@audit_app.command("checkpoint")
def checkpoint_now(
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: every tenant with a log).")] = None,
    database_url: DbOpt = None,
) -> None:
    """Cut and sign a checkpoint now; prints the checkpoint text."""
    from loket.audit.checkpoints import cut_checkpoint
    from loket.audit.store import heads

    async def work(ctx: Ctx) -> list[str]:
        async with ctx.ring.db.sessions() as session:
            tenants = [tenant] if tenant else [h.tenant for h in await heads(session)]
        return [(await cut_checkpoint(ctx.ring, t)).text for t in tenants]

    for text in _run(work, database_url, keyring=True):
        sys.stdout.write(text + "\n")


@keys_app.command("list")
def keys_list(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    as_json: JsonOpt = False,
    database_url: DbOpt = None,
) -> None:
    """List public keys; `--json` gives the file `verify --keys` takes."""

    async def work(ctx: Ctx) -> list[PublicKey]:
        return await ctx.ring.public_keys(tenant)

    keys = _run(work, database_url, keyring=True)
    if as_json:
        sys.stdout.write(json.dumps({"keys": [k.to_json() for k in keys]}, indent=2) + "\n")
        return
    for key in keys:
        data = key.to_json()
        state = f"retired {data['retired_at']}" if key.retired_at else "current"
        sys.stdout.write(f"{key.tenant}  {data['vkey']}  from {data['valid_from']}  {state}\n")


@keys_app.command("rotate")
def keys_rotate(
    tenant: TenantOpt,
    by: Annotated[str, typer.Option(help="Who rotates (recorded in the log).")] = "cli",
    database_url: DbOpt = None,
) -> None:
    """Retire the current signing key, start a new one, and sign a checkpoint with it at once."""
    from loket.audit.checkpoints import rotate_key

    async def work(ctx: Ctx) -> PublicKey:
        _, new, _ = await rotate_key(ctx.ring, tenant, by=by, log=ctx.log)
        return new

    new = _run(work, database_url, keyring=True)
    err.print(f"new key for {tenant} ({by}): {new.vkey()}")


@audit_app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="report.html or report.pdf")],
    bundle: Annotated[
        Path | None, typer.Argument(help="Summarise this evidence bundle instead of the database.")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant (required without a bundle).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Start of the period (default: the bundle's).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="End of the period, exclusive.")] = None,
    database_url: DbOpt = None,
) -> None:
    """The examiner's read-only summary of a period (HTML or PDF), pinned to the latest checkpoint."""
    from loket.audit.render import to_html, to_pdf

    first = None if start is None else _when(start)
    last = None if end is None else _when(end)
    if bundle is not None:
        from loket.audit.bundle import BundleError, report_from_bundle

        try:
            result = report_from_bundle(bundle, first, last, datetime.now(UTC))
        except (BundleError, OSError, ValueError, KeyError) as exc:
            _fail(f"{bundle}: {exc}")
    else:
        from loket.audit.examiner import build_report

        if tenant is None or first is None or last is None:
            _fail("without a bundle, --tenant, --from and --to are required")
        t, a, b = tenant, first, last

        async def work(db: Any) -> Any:
            return await build_report(db, t, a, b)

        result = _run(work, database_url)
        if result is None:
            _fail(f"no checkpoint for {tenant} yet: run `loket audit checkpoint` first")
    if out.suffix.lower() == ".pdf":
        out.write_bytes(to_pdf(result))
    else:
        out.write_text(to_html(result))
    err.print(f"wrote {out} (from the checkpoint of tree size {result.checkpoint.size})")
