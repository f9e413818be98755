"""The policy gate's facts, read from the database for a whole claimed batch at once.

Sources: tenant and number status from the PhoneDirectory; consent, domicile zone and the
relationship from `outbound_recipients`; the service window from `conversations.last_inbound_at`;
recent sends (for frequency caps) from the outbox; template category and status from
`message_templates`; the link allow-list from the tenant's `official_channels` ("link_domains" and
"web_domains").

A relationship exists when the institution's customer id is known for the recipient, or, for a
service reply, when the person wrote to the institution first (answering someone who asked is not
unsolicited contact).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, tuple_

from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import Conversation, OutboxMessage
from loket.outbound.policy import DEFAULT_CAPS, PolicyFacts, PolicyRequest
from loket.outbound.policy_content import OutgoingContent, PolicyInputError, TemplateFacts
from loket.outbound.policy_rules import Purpose
from loket.outbound.tables import MessageTemplate, Recipient
from loket.tenancy.directory import PhoneDirectory

CAP_LOOKBACK = timedelta(days=7)
_CAPPED = frozenset(DEFAULT_CAPS)


@dataclass(frozen=True, slots=True)
class _Known:
    customer_id: str | None
    consent_at: datetime | None
    opt_out_at: datetime | None
    zone: str | None
    province: str | None


class TemplateCache:
    """Template facts by (waba_id, name, language), reloaded every `ttl` seconds and on a miss."""

    def __init__(self, db: Database, *, clock: Clock = system_clock, ttl: float = 30.0) -> None:
        self._db = db
        self._clock = clock
        self._ttl = ttl
        self._loaded_at = float("-inf")
        self._facts: dict[tuple[str, str, str], TemplateFacts] = {}

    async def _load(self) -> None:
        async with self._db.sessions() as session:
            rows = (
                await session.execute(
                    select(
                        MessageTemplate.waba_id,
                        MessageTemplate.name,
                        MessageTemplate.language,
                        MessageTemplate.category,
                        MessageTemplate.status,
                    )
                )
            ).all()
        self._facts = {(w, n, lang): TemplateFacts(n, c, s) for w, n, lang, c, s in rows}
        self._loaded_at = self._clock.monotonic()

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    async def get(self, waba_id: str, name: str, language: str) -> TemplateFacts:
        age = self._clock.monotonic() - self._loaded_at
        if age > self._ttl or ((waba_id, name, language) not in self._facts and age > 1.0):
            await self._load()
        # A template Loket has not seen approved is treated as not approved: refused, never guessed.
        return self._facts.get((waba_id, name, language)) or TemplateFacts(name, "UTILITY", "UNKNOWN")


def template_key(payload: dict[str, Any]) -> tuple[str, str] | None:
    if payload.get("type") != "template":
        return None
    template = payload.get("template")
    if not isinstance(template, dict):
        return None
    language = template.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    return str(template.get("name", "")), str(code or "")


class DbPolicyFacts:
    """PolicyFactsPort over the database; `facts_for` serves a claimed batch with a few queries."""

    def __init__(
        self, db: Database, directory: PhoneDirectory, *, clock: Clock = system_clock, templates: TemplateCache | None
    ) -> None:
        self._db = db
        self._directory = directory
        self._clock = clock
        self.templates = templates if templates is not None else TemplateCache(db, clock=clock)

    async def policy_facts(self, request: PolicyRequest) -> PolicyFacts:
        [facts] = await self.facts_for([request])
        if isinstance(facts, PolicyInputError):
            raise facts
        return facts

    async def facts_for(self, requests: Sequence[PolicyRequest]) -> list[PolicyFacts | PolicyInputError]:
        if not requests:
            return []
        pairs = sorted({(r.tenant_id, r.wa_id) for r in requests})
        known, windows, conversation_customers = await self._recipients(pairs)
        capped = [(r.tenant_id, r.wa_id) for r in requests if r.purpose in _CAPPED or template_key(dict(r.payload))]
        recent = await self._recent_sends(sorted(set(capped)))
        out: list[PolicyFacts | PolicyInputError] = []
        for request in requests:
            try:
                out.append(await self._facts(request, known, windows, conversation_customers, recent))
            except PolicyInputError as exc:
                out.append(exc)
        return out

    async def _facts(
        self,
        request: PolicyRequest,
        known: dict[tuple[str, str], _Known],
        windows: dict[tuple[str, str], datetime | None],
        conversation_customers: dict[tuple[str, str], str | None],
        recent: dict[tuple[str, str], dict[Purpose, list[datetime]]],
    ) -> PolicyFacts:
        pair = (request.tenant_id, request.wa_id)
        tenant = await self._directory.tenant(request.tenant_id)
        number = await self._directory.number(request.phone_number_id)
        payload = dict(request.payload)
        template = None
        key = template_key(payload)
        if key is not None and number is not None:
            template = await self.templates.get(number.waba_id, *key)
        content = OutgoingContent.from_payload(payload, template=template)
        recipient = known.get(pair)
        last_inbound = windows.get(pair)
        customer_id = (recipient.customer_id if recipient else None) or conversation_customers.get(pair)
        relationship = customer_id is not None or (request.purpose is Purpose.SERVICE and last_inbound is not None)
        return PolicyFacts(
            purpose=request.purpose,
            content=content,
            tenant_active=tenant is not None and tenant.status == "active",
            number_active=number is not None and number.status == "active",
            relationship_exists=relationship,
            marketing_consent_at=recipient.consent_at if recipient else None,
            marketing_opt_out_at=recipient.opt_out_at if recipient else None,
            last_inbound_at=last_inbound,
            customer_zone=recipient.zone if recipient else None,
            customer_province=recipient.province if recipient else None,
            recent_sends=recent.get(pair, {}),
            allowed_link_domains=link_domains(tenant.official_channels if tenant else {}),
            collection=request.collection,
        )

    async def _recipients(
        self, pairs: list[tuple[str, str]]
    ) -> tuple[
        dict[tuple[str, str], _Known], dict[tuple[str, str], datetime | None], dict[tuple[str, str], str | None]
    ]:
        known: dict[tuple[str, str], _Known] = {}
        windows: dict[tuple[str, str], datetime | None] = {}
        customers: dict[tuple[str, str], str | None] = {}
        async with self._db.sessions() as session:
            for chunk in _chunks(pairs, 400):
                rows = await session.execute(
                    select(
                        Recipient.tenant_id,
                        Recipient.wa_id,
                        Recipient.customer_id,
                        Recipient.marketing_consent_at,
                        Recipient.marketing_opt_out_at,
                        Recipient.zone,
                        Recipient.province,
                    ).where(tuple_(Recipient.tenant_id, Recipient.wa_id).in_(chunk))
                )
                for tenant_id, wa_id, customer_id, consent, opt_out, zone, province in rows:
                    known[tenant_id, wa_id] = _Known(customer_id, consent, opt_out, zone, province)
                conversations = await session.execute(
                    select(
                        Conversation.tenant_id,
                        Conversation.wa_id,
                        Conversation.last_inbound_at,
                        Conversation.customer_id,
                    ).where(tuple_(Conversation.tenant_id, Conversation.wa_id).in_(chunk))
                )
                for tenant_id, wa_id, last_inbound, customer_id in conversations:
                    windows[tenant_id, wa_id] = last_inbound
                    customers[tenant_id, wa_id] = customer_id
        return known, windows, customers

    async def _recent_sends(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], dict[Purpose, list[datetime]]]:
        found: dict[tuple[str, str], dict[Purpose, list[datetime]]] = defaultdict(lambda: defaultdict(list))
        if not pairs:
            return found
        since = self._clock.now() - CAP_LOOKBACK
        async with self._db.sessions() as session:
            for chunk in _chunks(pairs, 400):
                rows = await session.execute(
                    select(
                        OutboxMessage.tenant_id, OutboxMessage.to_wa_id, OutboxMessage.purpose, OutboxMessage.sent_at
                    )
                    .where(tuple_(OutboxMessage.tenant_id, OutboxMessage.to_wa_id).in_(chunk))
                    .where(OutboxMessage.state == "sent", OutboxMessage.sent_at > since)
                    .where(OutboxMessage.purpose.in_([p.value for p in _CAPPED]))
                )
                for tenant_id, wa_id, purpose, sent_at in rows:
                    if sent_at is None:
                        continue
                    found[tenant_id, wa_id][Purpose(purpose)].append(sent_at)
        return found


def link_domains(official_channels: dict[str, Any]) -> frozenset[str]:
    """The tenant's allow-list: `link_domains` plus its `web_domains` (official_channels)."""
    domains: set[str] = set()
    for key in ("link_domains", "web_domains"):
        values = official_channels.get(key) or []
        if isinstance(values, list):
            domains.update(str(value).strip().lower() for value in values if str(value).strip())
    return frozenset(domains)


def _chunks(items: list[tuple[str, str]], size: int) -> Iterable[list[tuple[str, str]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
