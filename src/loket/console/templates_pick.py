"""The templates an agent may pick outside the service window: approved by Meta, utility category (an
agent never sends marketing or one-time-password templates), not one of the outbound engine's own
(alerts, confirmations, digests), on the tenant's own WhatsApp Business Accounts, with the numbered
placeholders of their body to fill in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loket.db.models import PhoneNumber
from loket.outbound.tables import MessageTemplate
from loket.outbound.templates import DEFINITIONS

AGENT_CATEGORIES = ("UTILITY",)
# Loket's own alert, confirmation and digest templates carry machine-made values: never for agents.
ENGINE_TEMPLATES = frozenset(definition.name for definition in DEFINITIONS)
_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True, slots=True)
class TemplateOption:
    name: str
    language: str
    body: str  # the approved text with {{1}}.. placeholders, shown to the agent
    params: tuple[str, ...]  # "1", "2", ... in order

    @property
    def key(self) -> str:
        return f"{self.name}:{self.language}"


def body_text(components: list[Any] | None) -> str:
    for component in components or []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            return str(component.get("text", ""))
    return ""


def placeholders(text: str) -> tuple[str, ...]:
    seen: list[str] = []
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return tuple(sorted(seen, key=int))


async def approved_templates(session: AsyncSession, tenant_id: str) -> list[TemplateOption]:
    wabas = select(PhoneNumber.waba_id).where(PhoneNumber.tenant_id == tenant_id)
    rows = (
        (
            await session.execute(
                select(MessageTemplate)
                .where(MessageTemplate.waba_id.in_(wabas), MessageTemplate.status == "APPROVED")
                .where(MessageTemplate.category.in_(AGENT_CATEGORIES), MessageTemplate.name.not_in(ENGINE_TEMPLATES))
                .order_by(MessageTemplate.name, MessageTemplate.language)
            )
        )
        .scalars()
        .all()
    )
    seen: set[tuple[str, str]] = set()
    out: list[TemplateOption] = []
    for row in rows:
        if (row.name, row.language) in seen:
            continue
        seen.add((row.name, row.language))
        text = body_text(row.components)
        out.append(TemplateOption(row.name, row.language, text, placeholders(text)))
    return out


def find_option(options: list[TemplateOption], key: str) -> TemplateOption | None:
    return next((option for option in options if option.key == key), None)
