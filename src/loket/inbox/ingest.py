"""Webhook ingest: turn one signed envelope into durable rows, then let the request answer 200.

Everything a validly signed body contains is stored: messages and statuses keyed by Meta's ids
(so redeliveries are no-ops), everything else as channel events, and the raw body once per
distinct content. Nothing here raises on an unexpected shape.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from sqlalchemy import insert

from loket.channel.inbound import parse_envelope
from loket.channel.inbound_models import InboundMessage, ParsedEnvelope, StatusUpdate
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.db.models import ChannelEvent, MessageStatus, WebhookEnvelope
from loket.db.models import InboundMessage as InboundRow
from loket.db.scope import SystemReason, system_scope
from loket.db.upsert import insert_ignore
from loket.inbox.group_commit import GroupCommitter
from loket.inbox.pg_bulk import insert_ignore_many
from loket.inbox.sealing import BatchSealer
from loket.inbox.secret_shield import redact_document, shield
from loket.metrics import INGEST_BATCH, SECRETS_REDACTED, UNKNOWN_PHONE_NUMBER, WEBHOOK_ITEMS
from loket.security.keystore import KeyStore
from loket.tenancy.directory import PhoneDirectory

MAX_ID = 128


@dataclass(slots=True)
class EnvelopeRows:
    envelope: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_messages(self) -> bool:
        return bool(self.messages)


class WebhookIngest:
    def __init__(
        self,
        db: Database,
        directory: PhoneDirectory,
        *,
        keys: KeyStore,
        clock: Clock = system_clock,
        on_stored: Callable[[EnvelopeRows], Awaitable[None] | None] | None = None,
        writers: int | None = None,
    ) -> None:
        self._db = db
        self._directory = directory
        self._sealer = BatchSealer(db, keys)
        self._clock = clock
        self._on_stored = on_stored
        self._writers = writers or (2 if db.is_postgres else 1)
        self._committer: GroupCommitter[EnvelopeRows] = GroupCommitter(self._write, writers=self._writers)
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()

    def on_stored_callback(self, callback: Callable[[EnvelopeRows], Awaitable[None] | None]) -> None:
        self._on_stored = callback

    def start(self) -> None:
        self._committer.start()

    async def _pg_pool(self) -> Any:
        """Dedicated driver connections for the writers: no ORM checkout on the hot path."""
        async with self._pool_lock:
            if self._pool is None:
                url = self._db.engine.url.set(drivername="postgresql")
                role = self._db.app_role
                self._pool = await asyncpg.create_pool(
                    url.render_as_string(hide_password=False),
                    min_size=1,
                    max_size=self._writers + 1,
                    server_settings={"role": role} if role else None,
                )
        return self._pool

    async def stop(self) -> None:
        await self._committer.stop()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def ingest(self, body: bytes) -> EnvelopeRows:
        rows = await self.to_rows(body)
        # Encryption at rest (docs/encryption.md): contents are sealed before they reach the database.
        with system_scope(SystemReason.WEBHOOK_INGEST):
            await self._sealer.seal(rows.envelope, rows.messages, rows.statuses, rows.events)
        await self._committer.submit(rows)
        if self._on_stored is not None:
            result = self._on_stored(rows)
            if result is not None:
                await result
        return rows

    async def to_rows(self, body: bytes) -> EnvelopeRows:
        now = self._clock.now()
        digest = hashlib.sha256(body).hexdigest()
        envelope: dict[str, Any] = {
            "body_sha256": digest,
            "received_at": now,
            "body": body,
            "parse_state": "ok",
            "phone_number_id": None,
        }
        rows = EnvelopeRows(envelope)
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            envelope["parse_state"] = "malformed"
            WEBHOOK_ITEMS.labels("malformed").inc()
            return rows
        parsed = parse_envelope(doc)
        replacements = await self._fill(rows, parsed, digest, now)
        if replacements:
            # The raw body must not keep what the rows no longer do.
            rows.envelope["body"] = orjson.dumps(redact_document(doc, replacements))
        if not parsed.is_whatsapp or (parsed.unrecognised and not (rows.messages or rows.statuses)):
            envelope["parse_state"] = "unrecognised"
        elif parsed.unrecognised:
            envelope["parse_state"] = "partial"
        return rows

    async def _tenant_of(self, phone_number_id: str | None) -> str | None:
        if not phone_number_id:
            return None
        number = await self._directory.number(phone_number_id)
        return number.tenant_id if number else None

    async def _fill(
        self, rows: EnvelopeRows, parsed: ParsedEnvelope, digest: str, now: Any
    ) -> dict[int, dict[str, Any]]:
        """Fills `rows`; returns the redacted copies of messages that carried secrets, by identity."""
        replacements: dict[int, dict[str, Any]] = {}
        for message in parsed.messages:
            rows.envelope["phone_number_id"] = message.phone_number_id
            if not message.wa_id or len(message.wamid) > MAX_ID:
                rows.events.append(_event("unusable_message", message.phone_number_id, None, message.raw, digest, now))
                continue
            tenant_id = await self._tenant_of(message.phone_number_id)
            if tenant_id is None:
                UNKNOWN_PHONE_NUMBER.inc()
            row = _message_row(message, tenant_id, digest, now)
            shielded = shield(message)
            if shielded is not None:
                row.update(text=shielded.text, payload=shielded.payload)
                replacements[id(message.raw)] = shielded.payload
                signal = {"wamid": message.wamid, "kinds": list(shielded.kinds)}
                rows.events.append(_event("secret_shared", message.phone_number_id, tenant_id, signal, digest, now))
                SECRETS_REDACTED.inc()
            rows.messages.append(row)
        for status in parsed.statuses:
            rows.envelope["phone_number_id"] = status.phone_number_id
            if len(status.wamid) > MAX_ID:
                rows.events.append(_event("unusable_status", status.phone_number_id, None, status.raw, digest, now))
                continue
            tenant_id = await self._tenant_of(status.phone_number_id)
            if tenant_id is None:
                UNKNOWN_PHONE_NUMBER.inc()
            rows.statuses.append(_status_row(status, tenant_id, digest, now))
        for update in parsed.template_updates:
            rows.events.append(_event("template_status", None, None, update.raw, digest, now))
        for pref in parsed.preference_updates:
            tenant_id = await self._tenant_of(pref.phone_number_id)
            rows.events.append(_event("marketing_preference", pref.phone_number_id, tenant_id, pref.raw, digest, now))
        for error in parsed.errors:
            tenant_id = await self._tenant_of(error.phone_number_id)
            rows.events.append(_event("channel_error", error.phone_number_id, tenant_id, error.raw, digest, now))
        for unknown in parsed.unrecognised:
            raw = unknown.raw if isinstance(unknown.raw, dict) else {"value": unknown.raw}
            event = _event("unrecognised", unknown.phone_number_id, None, raw, digest, now)
            event["note"] = unknown.reason[:200]
            rows.events.append(event)
        return replacements

    async def _write(self, batch: list[EnvelopeRows]) -> None:
        envelopes = {rows.envelope["body_sha256"]: rows.envelope for rows in batch}
        messages = _unique([row for rows in batch for row in rows.messages], ("wamid",))
        statuses = _unique([row for rows in batch for row in rows.statuses], ("wamid", "status"))
        with system_scope(SystemReason.WEBHOOK_INGEST):
            events = await self._write_rows(batch, list(envelopes.values()), messages, statuses)
        INGEST_BATCH.observe(len(batch))
        WEBHOOK_ITEMS.labels("message").inc(len(messages))
        WEBHOOK_ITEMS.labels("status").inc(len(statuses))
        WEBHOOK_ITEMS.labels("event").inc(len(events))

    async def _write_rows(
        self,
        batch: list[EnvelopeRows],
        envelopes: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        statuses: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        if self._db.is_postgres:
            return await self._write_postgres(batch, envelopes, messages, statuses)
        return await self._write_generic(batch, envelopes, messages, statuses)

    async def _write_postgres(
        self,
        batch: list[EnvelopeRows],
        envelopes: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        statuses: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        pool = await self._pg_pool()
        async with pool.acquire() as pg, pg.transaction():
            # One batch holds many tenants' rows: the listed system scope (loket.db.scope).
            await pg.execute("SELECT set_config('loket.scope', 'system', true)")
            new = set(
                await insert_ignore_many(pg, WebhookEnvelope, envelopes, ("body_sha256",), returning="body_sha256")
            )
            events = [row for rows in batch if rows.envelope["body_sha256"] in new for row in rows.events]
            await insert_ignore_many(pg, InboundRow, messages, ("wamid",))
            await insert_ignore_many(pg, MessageStatus, statuses, ("wamid", "status"))
            if events:
                await pg.executemany(*_event_insert(events))
        return events

    async def _write_generic(
        self,
        batch: list[EnvelopeRows],
        envelopes: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        statuses: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        dialect = self._db.dialect
        async with self._db.connect() as conn:
            inserted = await conn.execute(
                insert_ignore(dialect, WebhookEnvelope, "body_sha256").returning(WebhookEnvelope.body_sha256),
                envelopes,
            )
            new = set(inserted.scalars().all())
            # A redelivered body adds nothing: its messages and statuses hit the unique keys, and
            # its other events were stored the first time.
            events = [row for rows in batch if rows.envelope["body_sha256"] in new for row in rows.events]
            if messages:
                await conn.execute(insert_ignore(dialect, InboundRow, "wamid"), messages)
            if statuses:
                await conn.execute(insert_ignore(dialect, MessageStatus, "wamid", "status"), statuses)
            if events:
                await conn.execute(insert(ChannelEvent), events)
        return events


def _event_insert(events: list[dict[str, Any]]) -> tuple[str, list[tuple[Any, ...]]]:
    columns = tuple(events[0])
    placeholders = ", ".join(f"${i + 1}" for i in range(len(columns)))
    sql = f"INSERT INTO channel_events ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608 - our column names
    rows = [tuple(orjson.dumps(row[c]).decode() if c == "payload" else row[c] for c in columns) for row in events]
    return sql, rows


def _unique(rows: list[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(tuple(row[k] for k in key), row)
    return list(seen.values())


def _message_row(message: InboundMessage, tenant_id: str | None, digest: str, now: Any) -> dict[str, Any]:
    return {
        "wamid": message.wamid,
        "tenant_id": tenant_id,
        "phone_number_id": message.phone_number_id,
        "wa_id": message.wa_id,
        "kind": message.kind.value,
        "text": message.text,
        "reply_id": (message.reply_id or "")[:256] or None,
        "payload": message.raw,
        "profile_name": (message.profile_name or "")[:256] or None,
        "meta_timestamp": message.timestamp or int(now.timestamp()),
        "received_at": now,
        "envelope_sha256": digest,
        "state": "pending" if tenant_id else "orphaned",
        "attempts": 0,
    }


def _status_row(status: StatusUpdate, tenant_id: str | None, digest: str, now: Any) -> dict[str, Any]:
    errors = [
        {"code": e.code, "title": e.title, "message": e.message, "details": e.details} for e in status.errors
    ] or None
    pricing = status.pricing
    return {
        "wamid": status.wamid,
        "status": status.status[:16],
        "tenant_id": tenant_id,
        "phone_number_id": status.phone_number_id,
        "recipient_id": status.recipient_id,
        "biz_opaque_callback_data": (status.biz_opaque_callback_data or "")[:512] or None,
        "meta_timestamp": status.timestamp or int(now.timestamp()),
        "pricing": (
            {
                "billable": pricing.billable,
                "pricing_model": pricing.pricing_model,
                "category": pricing.category,
                "type": pricing.type,
            }
            if pricing
            else None
        ),
        "errors": errors,
        "received_at": now,
        "applied": False,
    }


def _event(
    kind: str, phone_number_id: str | None, tenant_id: str | None, payload: dict[str, Any], digest: str, now: Any
) -> dict[str, Any]:
    return {
        "envelope_sha256": digest,
        "kind": kind,
        "tenant_id": tenant_id,
        "phone_number_id": phone_number_id,
        "payload": payload,
        "note": None,
        "received_at": now,
        "processed": False,
    }
