"""`loket demo`: the embedded default, one process with SQLite, the sandbox and the demo institutions.

Demo secrets (master key, app secret, verify token, the Flows RSA key) are made once and kept under
./var/ so that a restarted demo can still read what it stored.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loket.config import Mode, Settings, load_settings
from loket.core.demo.institution import DemoCore
from loket.core.demo.tenants import DEMO_TENANTS, DemoTenant
from loket.db.engine import Database
from loket.flows.keys import ensure_demo_flows_key
from loket.journeys.feedback_flow import all_flow_json
from loket.sandbox.settings import DemoPhone, PhoneNumber, SandboxSettings
from loket.security.secretbox import SecretBox
from loket.tenancy.admin import PhoneNumberSpec, TenantSpec, upsert_phone_number, upsert_tenant

SANDBOX_PREFIX = "/sandbox"
GRAPH_VERSION = "v23.0"


@dataclass(frozen=True)
class DemoSecrets:
    master_key: str
    app_secret: str
    verify_token: str


def demo_secrets(var_dir: Path) -> DemoSecrets:
    path = var_dir / "demo-secrets.json"
    if path.exists():
        data = json.loads(path.read_text())
        return DemoSecrets(data["master_key"], data["app_secret"], data["verify_token"])
    var_dir.mkdir(parents=True, exist_ok=True)
    made = DemoSecrets(
        master_key=base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
        app_secret=secrets.token_hex(16),
        verify_token=secrets.token_urlsafe(16),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(made.__dict__, handle)
    return made


def demo_settings(host: str, port: int, **overrides: Any) -> Settings:
    """Environment first (LOKET_DATABASE_URL may point at PostgreSQL), demo defaults for the rest."""
    base = load_settings(mode=Mode.DEMO, **overrides)
    made = demo_secrets(base.var_dir)
    public = f"http://{host}:{port}"
    values: dict[str, Any] = {
        "var_dir": base.var_dir,
        "database_url": base.database_url,
        "master_key": base.master_key or made.master_key,
        "meta_app_secret": base.meta_app_secret or made.app_secret,
        "webhook_verify_token": base.webhook_verify_token or made.verify_token,
        "graph_api_url": f"{public}{SANDBOX_PREFIX}/{GRAPH_VERSION}",
        "public_url": public,
        "flows_private_key_file": base.flows_private_key_file or ensure_demo_flows_key(base.var_dir),
        "flows_private_key_passphrase": base.flows_private_key_passphrase,
    }
    values.update(overrides)
    values["mode"] = Mode.DEMO
    return load_settings(**values)


def access_token_for(tenant: DemoTenant) -> str:
    return f"demo-token-{tenant.tenant_id}"


def tenant_spec(tenant: DemoTenant) -> TenantSpec:
    return TenantSpec(
        tenant_id=tenant.tenant_id,
        kind=tenant.kind.value,
        legal_name=tenant.legal_name,
        display_name=tenant.name,
        ojk_licence_number=tenant.ojk_licence_number,
        official_channels={
            "whatsapp_numbers": list(tenant.whatsapp_numbers),
            "web_domains": list(tenant.web_domains),
            "call_centre_numbers": list(tenant.call_centre_numbers),
            "email_domains": list(tenant.email_domains),
            "social_accounts": [s.url for s in tenant.social_accounts],
        },
    )


async def seed_tenants(db: Database, box: SecretBox) -> None:
    for tenant in DEMO_TENANTS:
        await upsert_tenant(db, tenant_spec(tenant))
        number = tenant.phone_number
        await upsert_phone_number(
            db,
            box,
            PhoneNumberSpec(
                phone_number_id=number.phone_number_id,
                tenant_id=tenant.tenant_id,
                display_number=number.display_number,
                waba_id=number.waba_id,
                access_token=access_token_for(tenant),
                messages_per_second=number.messages_per_second,
            ),
        )


async def seed_summary(core: DemoCore) -> dict[str, Any]:
    """What `loket demo seed --json` prints: tenants with phone_number_id, customers with wa_id."""
    tenants = []
    customers = []
    for tenant in DEMO_TENANTS:
        tenants.append(
            {
                "tenant_id": tenant.tenant_id,
                "name": tenant.name,
                "kind": tenant.kind.value,
                "phone_number_id": tenant.phone_number.phone_number_id,
                "display_number": tenant.phone_number.display_number,
                "waba_id": tenant.phone_number.waba_id,
            }
        )
        for customer in await core.customers(tenant.tenant_id):
            customers.append(
                {
                    "tenant_id": tenant.tenant_id,
                    "customer_id": customer.customer_id,
                    "wa_id": customer.phone_e164.lstrip("+"),
                    "name": customer.full_name,
                    "language": customer.language,
                    "timezone": customer.timezone,
                    "phone_number_id": tenant.phone_number.phone_number_id,
                }
            )
    return {"tenants": tenants, "customers": customers}


async def sandbox_settings(
    core: DemoCore,
    *,
    app_secret: str,
    webhook_url: str,
    flow_endpoint_url: str | None = None,
    business_public_key_pem: str | None = None,
) -> SandboxSettings:
    """The emulator, told about the demo numbers and customers, Loket's Flow JSON, and (in one process
    with Loket) the Flow endpoint and its public key, as an operator registers them with Meta."""
    numbers = [
        PhoneNumber(
            phone_number_id=t.phone_number.phone_number_id,
            display_phone_number=t.phone_number.phone_e164.lstrip("+"),
            waba_id=t.phone_number.waba_id,
            access_token=access_token_for(t),
            verified_name=t.name,
            messages_per_second=t.phone_number.messages_per_second,
            flow_endpoint_url=flow_endpoint_url,
            business_public_key_pem=business_public_key_pem,
        )
        for t in DEMO_TENANTS
    ]
    summary = await seed_summary(core)
    names = {t.tenant_id: t.name for t in DEMO_TENANTS}
    phones = [
        DemoPhone(
            wa_id=c["wa_id"],
            profile_name=c["name"],
            phone_number_id=c["phone_number_id"],
            language=c["language"],
            tenant_id=c["tenant_id"],
            tenant_name=names[c["tenant_id"]],
            customer_id=c["customer_id"],
        )
        for c in summary["customers"]
    ]
    return SandboxSettings(
        app_secret=app_secret,
        webhook_url=webhook_url,
        graph_version=GRAPH_VERSION,
        numbers=numbers,
        demo_phones=phones,
        flow_json=all_flow_json(),
    )
