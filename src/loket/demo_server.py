"""Process assembly for `loket demo` and `loket sandbox`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI
from rich.console import Console
from starlette.types import ASGIApp

from loket.channel.flows_crypto import public_key_to_pem
from loket.clock import Clock, system_clock
from loket.config import Settings
from loket.console.demo_staff import DemoLogin, seed_demo_staff
from loket.core.demo.api import build_core_router
from loket.core.demo.institution import DemoCore
from loket.db.engine import Database
from loket.db.migrate import upgrade
from loket.db.scope import SEEDING
from loket.demo import SANDBOX_PREFIX, demo_settings, sandbox_settings, seed_summary, seed_tenants
from loket.flows.keys import ensure_demo_flows_key, load_flows_key
from loket.logging_setup import configure_logging
from loket.runtime import Runtime
from loket.sandbox.app import build_sandbox_app
from loket.sandbox.settings import SandboxSettings
from loket.security.keycheck import keyring_from_settings, verify_master_keys
from loket.security.secretbox import SecretBox
from loket.web.app import build_app
from loket.web.flows import FLOWS_PATH

log = logging.getLogger(__name__)
CORE_PREFIX = "/core"


async def prepare_demo(settings: Settings) -> DemoCore:
    db = Database(settings.effective_database_url, default_scope=SEEDING)
    try:
        await upgrade(db)
        # A master key that cannot open this database's keys stops the demo here (ADR 0006).
        await verify_master_keys(db, keyring_from_settings(settings))
        await seed_tenants(db, SecretBox(settings.master_key_bytes))
    finally:
        await db.dispose()
    return DemoCore.generate(system_clock)


async def prepare_demo_staff(settings: Settings) -> list[DemoLogin]:
    """The demo's console logins (an agent, a supervisor, a compliance officer per institution)."""
    db = Database(settings.effective_database_url, default_scope=SEEDING)
    try:
        return await seed_demo_staff(db, settings.master_key_bytes)
    finally:
        await db.dispose()


def build_demo_app(
    settings: Settings,
    core: DemoCore,
    *,
    tune_sandbox: Callable[[SandboxSettings], None] | None = None,
    clock: Clock = system_clock,
) -> ASGIApp:
    """`clock`: the time of Loket's runtime (tests pass a FakeClock to cross days and holidays)."""
    if settings.flows_private_key_file is None:
        settings = settings.model_copy(update={"flows_private_key_file": ensure_demo_flows_key(settings.var_dir)})
    flows_key = load_flows_key(settings)
    sandbox_conf = asyncio.run(
        sandbox_settings(
            core,
            app_secret=settings.meta_app_secret or "",
            webhook_url=f"{settings.public_url}/webhooks/whatsapp",
            # What an operator registers with Meta: the endpoint URL and the business public key.
            flow_endpoint_url=f"{settings.public_url}{FLOWS_PATH}",
            business_public_key_pem=public_key_to_pem(flows_key) if flows_key else None,
        )
    )
    if tune_sandbox is not None:
        tune_sandbox(sandbox_conf)
    sandbox = build_sandbox_app(sandbox_conf, extra_routers=[(CORE_PREFIX, build_core_router(core))])
    runtime = Runtime.build(settings, core=core, clock=clock)
    sandbox_runtime = sandbox.state.sandbox
    return build_app(
        runtime,
        process=True,
        dispatch=True,
        mounts={SANDBOX_PREFIX: sandbox},
        companions=[(sandbox_runtime.start, sandbox_runtime.stop)],
    )


def run_demo(host: str, port: int) -> None:
    settings = demo_settings(host, port)
    configure_logging(settings.log_level, "console")
    core = asyncio.run(prepare_demo(settings))
    logins = asyncio.run(prepare_demo_staff(settings))
    app = build_demo_app(settings, core)
    summary = asyncio.run(seed_summary(core))
    _banner(settings, summary, logins)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def _banner(settings: Settings, summary: dict[str, list[dict[str, str]]], logins: list[DemoLogin]) -> None:
    out = Console(stderr=True)
    base = settings.public_url
    out.rule("[bold]Loket demo")
    out.print(f"Phone simulator      {base}{SANDBOX_PREFIX}/")
    out.print(f"API docs (OpenAPI)   {base}/docs")
    out.print(f"Sandbox API docs     {base}{SANDBOX_PREFIX}/_sandbox/docs")
    out.print(f"Webhook receiver     {base}/webhooks/whatsapp")
    out.print(f"Flow data endpoint   {base}{FLOWS_PATH}")
    out.print(f"Flows private key    {settings.flows_private_key_file}")
    out.print(f"Health / metrics     {base}/readyz  {base}/metrics")
    out.print(f"Database             {settings.effective_database_url}")
    for tenant in summary["tenants"]:
        first = next(c for c in summary["customers"] if c["tenant_id"] == tenant["tenant_id"])
        out.print(
            f"{tenant['name']:<20} phone_number_id {tenant['phone_number_id']}; try customer "
            f"{first['name']} (wa_id {first['wa_id']})"
        )
    out.print(f"Staff console        {base}/console/  (TOTP code now: loket staff totp-now --email EMAIL)")
    for login in logins:
        out.print(f"  {login.role.value:<19} {login.email}  password {login.password}", soft_wrap=True)
        out.print(f"  {'':<19} TOTP {login.totp_uri}", soft_wrap=True, highlight=False)
    out.print('Open the simulator, pick a customer and say "halo"; "Kritik & saran" in the menu opens a Flow.')
    out.rule()


def build_standalone_sandbox(app_secret: str, webhook_url: str) -> FastAPI:
    """The sandbox and the demo institutions' core API (at /core), as `loket sandbox` serves them."""
    core = DemoCore.generate(system_clock)
    conf = asyncio.run(sandbox_settings(core, app_secret=app_secret, webhook_url=webhook_url))
    return build_sandbox_app(conf, extra_routers=[(CORE_PREFIX, build_core_router(core))])
