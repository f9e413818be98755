"""Creating and changing tenants and their phone numbers (CLI, demo seed, console)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import PhoneNumber, Tenant
from loket.db.scope import SystemReason
from loket.security.secretbox import SecretBox

TENANT_KINDS = ("bank", "insurer", "lender")


class TenancyError(ValueError):
    pass


@dataclass(frozen=True)
class TenantSpec:
    tenant_id: str
    kind: str
    legal_name: str
    display_name: str
    ojk_licence_number: str
    official_channels: dict[str, Any] = field(default_factory=dict)
    default_language: str = "id"


@dataclass(frozen=True)
class PhoneNumberSpec:
    phone_number_id: str
    tenant_id: str
    display_number: str
    waba_id: str
    access_token: str
    messages_per_second: int = 80


def _check_tenant(spec: TenantSpec) -> None:
    if spec.kind not in TENANT_KINDS:
        raise TenancyError(f"tenant kind must be one of {', '.join(TENANT_KINDS)}, not {spec.kind!r}")
    if not spec.tenant_id or not spec.tenant_id.replace("-", "").isalnum() or spec.tenant_id != spec.tenant_id.lower():
        raise TenancyError("tenant id must be lower-case letters, digits and dashes")


def _check_number(spec: PhoneNumberSpec) -> None:
    if not spec.phone_number_id.isdigit():
        raise TenancyError("phone_number_id must be Meta's numeric id")
    if not 1 <= spec.messages_per_second <= 1000:
        raise TenancyError("messages_per_second must be between 1 and 1000")
    if not spec.access_token:
        raise TenancyError("an access token is required")


async def upsert_tenant(db: Database, spec: TenantSpec, *, clock: Clock = system_clock) -> None:
    _check_tenant(spec)
    async with db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        row = await session.get(Tenant, spec.tenant_id)
        if row is None:
            row = Tenant(id=spec.tenant_id, created_at=clock.now(), status="active")
            session.add(row)
        row.kind = spec.kind
        row.legal_name = spec.legal_name
        row.display_name = spec.display_name
        row.ojk_licence_number = spec.ojk_licence_number
        row.official_channels = spec.official_channels
        row.default_language = spec.default_language


async def upsert_phone_number(
    db: Database, box: SecretBox, spec: PhoneNumberSpec, *, clock: Clock = system_clock
) -> None:
    _check_number(spec)
    async with db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        if await session.get(Tenant, spec.tenant_id) is None:
            raise TenancyError(f"unknown tenant {spec.tenant_id!r}")
        row = await session.get(PhoneNumber, spec.phone_number_id)
        if row is None:
            row = PhoneNumber(phone_number_id=spec.phone_number_id, created_at=clock.now(), status="active")
            session.add(row)
        elif row.tenant_id != spec.tenant_id:
            raise TenancyError(f"phone number {spec.phone_number_id} already belongs to another tenant")
        row.tenant_id = spec.tenant_id
        row.display_number = spec.display_number
        row.waba_id = spec.waba_id
        row.messages_per_second = spec.messages_per_second
        row.access_token_enc = box.seal(
            spec.access_token, table="phone_numbers", column="access_token", row=spec.phone_number_id
        )


async def list_tenants(db: Database) -> list[Tenant]:
    async with db.system_session(SystemReason.PLATFORM_ADMIN) as session:
        return list((await session.execute(select(Tenant).order_by(Tenant.id))).scalars())
