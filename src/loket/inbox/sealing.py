"""Encryption at rest of what the webhook stores: inbound message rows and raw envelope bodies.

A message row's text, payload (Meta's message object, with captions, media ids, locations) and the
sender's profile name are sealed together, as one value, under the customer's data key and bound
to `inbound_messages|sealed|<wamid>`; the plain columns keep nothing personal. The raw envelope
body is sealed under the data key of the one customer whose messages it carries, or under the
tenant's key when it carries several customers or only statuses, bound to its SHA-256.

Readers call `open_message`, which restores the plain attributes on the loaded row without
marking it dirty, so a later flush never writes plaintext back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from loket.db.engine import Database
from loket.db.models import InboundMessage, WebhookEnvelope
from loket.security.keys import KeyErased
from loket.security.keystore import DataKey, Executor, KeyStore, Owner, current_keystore

INBOUND = "inbound_messages"
ENVELOPES = "webhook_envelopes"
SEALED = "sealed"
ERASED_STATE = "erased"  # webhook_envelopes.parse_state of a body deleted by crypto-shredding
ERASED_TEXT = "[erased]"  # what a reader shows for content whose key was shredded (staff-facing)


class BatchSealer:
    """Seals what the webhook stores; keys come from the cache, or from one short transaction when new."""

    def __init__(self, db: Database, keys: KeyStore) -> None:
        self._db = db
        self._keys = keys

    async def _keys_for(self, owners: set[Owner]) -> dict[Owner, DataKey]:
        found = self._keys.cached(owners)
        if len(found) == len(owners):
            return found
        # New customers (or a cold cache): created and committed before the rows that use them, so
        # a crash in between leaves at most an unused key, never a row without its key.
        async with self._db.transaction() as session:
            return await self._keys.owner_keys(session, owners)

    async def seal(
        self,
        envelope: dict[str, Any],
        messages: list[dict[str, Any]],
        statuses: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> None:
        """Seal one envelope's body and message rows in place, before they join a group commit.

        Done per request rather than in the batch writer, so the CPU work overlaps with the writer's
        database I/O instead of delaying every batch (SQLite has a single writer).
        """
        owner = envelope_owner(messages, statuses, events)
        keys = await self._keys_for({(m["tenant_id"], m["wa_id"]) for m in messages} | {owner})
        digest = envelope["body_sha256"]
        envelope["sealed"] = keys[owner].seal(envelope["body"], table=ENVELOPES, column=SEALED, row=digest)
        envelope["body"] = b""
        for row in messages:
            content = {"text": row["text"], "payload": row["payload"], "profile_name": row["profile_name"]}
            key = keys[(row["tenant_id"], row["wa_id"])]
            row["sealed"] = key.seal(orjson.dumps(content), table=INBOUND, column=SEALED, row=row["wamid"])
            row.update(text=None, payload={}, profile_name=None)


def envelope_owner(
    messages: list[dict[str, Any]], statuses: list[dict[str, Any]], events: list[dict[str, Any]]
) -> Owner:
    customers = {(m["tenant_id"], m["wa_id"]) for m in messages}
    if len(customers) == 1:
        return customers.pop()
    tenants = [r["tenant_id"] for r in (*messages, *statuses, *events) if r.get("tenant_id")]
    return (tenants[0] if tenants else None, None)


async def open_message(keys: KeyStore, conn: Executor, message: InboundMessage) -> bool:
    """Restore text, payload and profile name on a loaded row; False when the customer's key was shredded.

    A tampered or moved ciphertext raises CiphertextError: that is an attack or a bug, not a state.
    """
    if message.sealed is None:
        return True  # written before encryption at rest, or a synthetic row with nothing personal
    try:
        plain = await keys.open(conn, message.sealed, table=INBOUND, column=SEALED, row=message.wamid)
    except KeyErased:
        set_committed_value(message, "text", ERASED_TEXT if message.kind == "text" else None)
        return False
    content = orjson.loads(plain)
    set_committed_value(message, "text", content["text"])
    set_committed_value(message, "payload", content["payload"])
    set_committed_value(message, "profile_name", content["profile_name"])
    return True


async def open_messages(conn: Executor, rows: Iterable[InboundMessage], keys: KeyStore | None = None) -> None:
    """`open_message` on each row; the key store defaults to the process's, needed only if a row is sealed."""
    for row in rows:
        if row.sealed is not None:
            keys = keys or current_keystore()
            await open_message(keys, conn, row)


async def open_envelope_body(keys: KeyStore, conn: Executor, envelope: WebhookEnvelope) -> bytes | None:
    """The raw body as Meta sent it (after the secret shield); None when it was erased or its key shredded."""
    if envelope.parse_state == ERASED_STATE:
        return None
    if envelope.sealed is None:
        return envelope.body
    try:
        return await keys.open(conn, envelope.sealed, table=ENVELOPES, column=SEALED, row=envelope.body_sha256)
    except KeyErased:
        return None


async def open_text(
    keys: KeyStore, session: AsyncSession, wamid: str, text: str | None, sealed: bytes | None
) -> str | None:
    """The text of one inbound message for a reader that selected columns, not rows."""
    if sealed is None:
        return text
    try:
        plain = await keys.open(session, sealed, table=INBOUND, column=SEALED, row=wamid)
    except KeyErased:
        return ERASED_TEXT
    value = orjson.loads(plain)["text"]
    return None if value is None else str(value)
