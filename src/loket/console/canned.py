"""Canned responses: per-tenant reply snippets with variables, managed by supervisors.

Variables are filled in on the server when the reply is sent, never in the agent's browser, so a
masked name stays masked on screen: {{nama}} / {{name}} (the customer's first name, or a polite
form of address when unknown), {{agent}} (the agent's display name), {{institusi}} / {{institution}}
and {{tanggal}} / {{date}} (today, in the customer's zone and language).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket import audit
from loket.audit import EventType
from loket.channel.limits import TEXT_BODY_MAX
from loket.console.conversation_tables import CannedResponse
from loket.i18n.catalog import LANGUAGES

VARIABLES = ("nama", "name", "agent", "institusi", "institution", "tanggal", "date")
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
TITLE_MAX = 100


class CannedInvalid(ValueError):
    """`code` names the problem (a catalog key suffix); nothing was saved."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class CannedDraft:
    shortcut: str
    title: str
    language: str
    body: str

    @classmethod
    def parse(cls, shortcut: str, title: str, language: str, body: str) -> CannedDraft:
        shortcut, title, body = shortcut.strip().lower(), " ".join(title.split()), body.strip()
        if not _SHORTCUT.fullmatch(shortcut):
            raise CannedInvalid("shortcut")
        if not title or len(title) > TITLE_MAX:
            raise CannedInvalid("title")
        if language not in LANGUAGES:
            raise CannedInvalid("language")
        if not body or len(body) > TEXT_BODY_MAX:
            raise CannedInvalid("body")
        if unknown_variables(body):
            raise CannedInvalid("variable")
        return cls(shortcut, title, language, body)


def unknown_variables(text: str) -> list[str]:
    return sorted({name for name in _VARIABLE.findall(text) if name.lower() not in VARIABLES})


def has_variables(text: str) -> bool:
    return bool(_VARIABLE.search(text))


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace every known variable; raises CannedInvalid("variable") on an unknown one."""
    if unknown_variables(text):
        raise CannedInvalid("variable")
    return _VARIABLE.sub(lambda match: values[match.group(1).lower()], text)


def variable_values(*, first_name: str, agent: str, institution: str, date: str) -> dict[str, str]:
    return {
        "nama": first_name,
        "name": first_name,
        "agent": agent,
        "institusi": institution,
        "institution": institution,
        "tanggal": date,
        "date": date,
    }


async def list_canned(session: AsyncSession, tenant_id: str, *, include_inactive: bool = False) -> list[CannedResponse]:
    query = select(CannedResponse).where(CannedResponse.tenant_id == tenant_id)
    if not include_inactive:
        query = query.where(CannedResponse.active.is_(True))
    query = query.order_by(CannedResponse.language, CannedResponse.shortcut)
    return list((await session.execute(query)).scalars().all())


async def get_canned(session: AsyncSession, tenant_id: str, canned_id: int) -> CannedResponse | None:
    return (
        await session.execute(
            select(CannedResponse).where(CannedResponse.id == canned_id, CannedResponse.tenant_id == tenant_id)
        )
    ).scalar_one_or_none()


def _digest(row: CannedResponse | None) -> str | None:
    if row is None:
        return None
    text = "\x1f".join((row.shortcut, row.title, row.language, row.body, str(row.active)))
    return hashlib.sha256(text.encode()).hexdigest()


async def save_canned(
    session: AsyncSession,
    *,
    tenant_id: str,
    staff_id: str,
    draft: CannedDraft,
    now: datetime,
    canned_id: int | None = None,
) -> CannedResponse:
    """Create, or edit `canned_id` of this tenant (LookupError when it is not); audited as a config change."""
    clash = (
        await session.execute(
            select(CannedResponse.id).where(
                CannedResponse.tenant_id == tenant_id,
                CannedResponse.shortcut == draft.shortcut,
                CannedResponse.language == draft.language,
            )
        )
    ).scalar_one_or_none()
    if clash is not None and clash != canned_id:
        raise CannedInvalid("duplicate")
    row: CannedResponse | None
    if canned_id is None:
        row = CannedResponse(tenant_id=tenant_id, created_by=staff_id, created_at=now, active=True)
        before = None
        session.add(row)
    else:
        row = await get_canned(session, tenant_id, canned_id)
        if row is None:
            raise LookupError(canned_id)
        before = _digest(row)
    row.shortcut, row.title, row.language, row.body = draft.shortcut, draft.title, draft.language, draft.body
    row.active, row.updated_by, row.updated_at = True, staff_id, now
    await session.flush()
    await _audit(session, tenant_id, staff_id, now, before, _digest(row))
    return row


async def retire_canned(session: AsyncSession, *, tenant_id: str, staff_id: str, canned_id: int, now: datetime) -> None:
    row = await get_canned(session, tenant_id, canned_id)
    if row is None:
        raise LookupError(canned_id)
    before = _digest(row)
    row.active, row.updated_by, row.updated_at = False, staff_id, now
    await _audit(session, tenant_id, staff_id, now, before, _digest(row))


async def _audit(
    session: AsyncSession, tenant_id: str, staff_id: str, now: datetime, old: str | None, new: str | None
) -> None:
    fields: dict[str, object] = {"setting": "console.canned_response", "by": f"staff:{staff_id}"}
    if old is not None:
        fields["old"] = old
    if new is not None:
        fields["new"] = new
    await audit.record(
        EventType.CONFIG_CHANGED, tenant=tenant_id, actor=f"staff:{staff_id}", at=now, fields=fields, session=session
    )
