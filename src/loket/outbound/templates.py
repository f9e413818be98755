"""The utility templates Loket ships (alerts, updates, confirmations, digests), submitting them to
Meta, and keeping `message_templates` in step with what Meta says about them.

The texts live in the message catalogs (`alerts.templates.*`), in Bahasa Indonesia and English.
`loket templates submit` creates them through `POST /{waba_id}/message_templates`; statuses come
back as `message_template_status_update` webhooks (stored as channel events and applied here) and
from `loket templates sync` (`GET /{waba_id}/message_templates`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loket.alerts.compose import TEMPLATE_DIGEST, TEMPLATE_TRANSACTION, TEMPLATE_UPDATE
from loket.clock import Clock, system_clock
from loket.confirmations.compose import TEMPLATE_CONFIRMATION
from loket.db.engine import Database
from loket.db.models import ChannelEvent
from loket.db.upsert import insert_ignore
from loket.i18n.catalog import t
from loket.outbound.tables import MessageTemplate

LANGUAGES = ("id", "en")
ALREADY_EXISTS = 2388024


@dataclass(frozen=True, slots=True)
class TemplateDefinition:
    name: str
    text_key: str
    example: tuple[str, ...]
    buttons: tuple[str, ...] = ()  # catalog keys of quick-reply buttons
    category: str = "UTILITY"

    def creation_body(self, language: str) -> dict[str, Any]:
        components: list[dict[str, Any]] = [
            {"type": "BODY", "text": t(language, self.text_key), "example": {"body_text": [list(self.example)]}}
        ]
        if self.buttons:
            components.append(
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": t(language, b)} for b in self.buttons]}
            )
        return {"name": self.name, "language": language, "category": self.category, "components": components}


DEFINITIONS = (
    TemplateDefinition(
        TEMPLATE_TRANSACTION,
        "alerts.templates.transaction",
        ("keluar", "•••• 1234", "Rp1.250.000", "30 Nov 2026 10.15 WIB", "Pembayaran QRIS", "Rp8.420.500"),
        ("alerts.not_me_button",),
    ),
    TemplateDefinition(TEMPLATE_UPDATE, "alerts.templates.update", ("Kartu •••• 1234 Anda telah diblokir.",)),
    TemplateDefinition(
        TEMPLATE_CONFIRMATION,
        "alerts.templates.confirmation",
        ("Rp25.000.000", "PT Sumber Makmur", "Internet banking", "30 Nov 2026 10.16 WIB", "30 Nov 2026 10.26 WIB"),
        ("alerts.confirm.yes", "alerts.confirm.no"),
    ),
    TemplateDefinition(TEMPLATE_DIGEST, "alerts.templates.digest", ("12", "Rp245.000")),
)


@dataclass(frozen=True, slots=True)
class Submitted:
    name: str
    language: str
    outcome: str  # created, exists, error
    status: str | None = None
    detail: str | None = None
    meta_id: str | None = None
    category: str = "UTILITY"

    def as_listing(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "status": self.status, "id": self.meta_id}


class TemplateApi:
    """The Graph API's template management endpoints, for one WABA at a time."""

    def __init__(self, graph_api_url: str, *, timeout: float = 15.0) -> None:
        self._base = graph_api_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def submit(self, waba_id: str, token: str, definitions: Iterable[TemplateDefinition]) -> list[Submitted]:
        out: list[Submitted] = []
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(timeout=self._timeout, headers=headers) as http:
            for definition in definitions:
                for language in LANGUAGES:
                    url = f"{self._base}/{waba_id}/message_templates"
                    async with http.post(url, json=definition.creation_body(language)) as response:
                        body = await response.json(content_type=None)
                    out.append(_submitted(definition.name, language, response.status, body))
        return out

    async def fetch(self, waba_id: str, token: str) -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            aiohttp.ClientSession(timeout=self._timeout, headers=headers) as http,
            http.get(f"{self._base}/{waba_id}/message_templates", params={"limit": "1000"}) as response,
        ):
            body = await response.json(content_type=None)
            if response.status != 200 or not isinstance(body, dict):
                raise RuntimeError(f"listing templates failed with HTTP {response.status}")
        data = body.get("data")
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _submitted(name: str, language: str, status: int, body: object) -> Submitted:
    if status == 200 and isinstance(body, dict):
        meta_id = body.get("id")
        category = str(body.get("category") or "UTILITY").upper()
        status_text = str(body.get("status", "PENDING")).upper()
        return Submitted(
            name, language, "created", status_text, meta_id=str(meta_id) if meta_id else None, category=category
        )
    error = body.get("error") if isinstance(body, dict) else None
    subcode = error.get("error_subcode") if isinstance(error, dict) else None
    if subcode == ALREADY_EXISTS:
        return Submitted(name, language, "exists")
    code = error.get("code") if isinstance(error, dict) else None
    return Submitted(name, language, "error", detail=f"HTTP {status}, code {code}")


async def store_templates(db: Database, waba_id: str, items: Iterable[dict[str, Any]], now: datetime) -> int:
    """Upsert what Meta listed for `waba_id`; returns how many rows were written."""
    count = 0
    async with db.transaction() as session:
        for item in items:
            name, language = item.get("name"), item.get("language")
            if not isinstance(name, str) or not isinstance(language, str):
                continue
            await _upsert(
                session,
                db.dialect,
                waba_id,
                name,
                language,
                category=str(item.get("category", "UTILITY")).upper(),
                status=str(item.get("status", "PENDING")).upper(),
                meta_id=str(item["id"]) if item.get("id") else None,
                components=item.get("components") if isinstance(item.get("components"), list) else None,
                now=now,
            )
            count += 1
    return count


async def _upsert(
    session: AsyncSession,
    dialect: str,
    waba_id: str,
    name: str,
    language: str,
    *,
    category: str,
    status: str,
    meta_id: str | None,
    components: list[Any] | None,
    now: datetime,
) -> None:
    await session.execute(
        insert_ignore(dialect, MessageTemplate, "waba_id", "name", "language").values(
            waba_id=waba_id, name=name, language=language, category=category, status=status, updated_at=now
        )
    )
    values: dict[str, Any] = {"category": category, "status": status, "updated_at": now}
    if meta_id:
        values["meta_id"] = meta_id
    if components is not None:
        values["components"] = components
    await session.execute(
        update(MessageTemplate)
        .where(MessageTemplate.waba_id == waba_id, MessageTemplate.name == name, MessageTemplate.language == language)
        .values(**values)
    )


async def apply_template_events(db: Database, *, clock: Clock = system_clock, batch: int = 200) -> int:
    """`message_template_status_update` webhooks (channel events `template_status`) to the table."""
    now = clock.now()
    applied = 0
    async with db.transaction() as session:
        events = (
            await session.execute(
                select(ChannelEvent)
                .where(ChannelEvent.kind == "template_status", ChannelEvent.processed.is_(False))
                .order_by(ChannelEvent.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
        for event in events:
            payload = event.payload or {}
            status = str(payload.get("event", "")).upper()
            meta_id = payload.get("message_template_id")
            name, language = payload.get("message_template_name"), payload.get("message_template_language")
            target = update(MessageTemplate).values(status=status, updated_at=now)
            if meta_id is not None:
                target = target.where(MessageTemplate.meta_id == str(meta_id))
            elif isinstance(name, str) and isinstance(language, str):
                target = target.where(MessageTemplate.name == name, MessageTemplate.language == language)
            else:
                event.processed = True
                continue
            if status:
                await session.execute(target)
            event.processed = True
            applied += 1
    return applied
