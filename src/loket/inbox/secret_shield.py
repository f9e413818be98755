"""The secret shield at the door: secrets a customer pastes are redacted before anything is stored.

A customer who types an OTP, a PIN or a card number into the chat has made a mistake that a
thief on the other end would exploit; Loket must not keep the secret anywhere (rows, raw
envelope, logs). The redacted copy keeps the message's shape, and `loket_redactions` lists the
kinds found so that the conversation can warn the customer and a security signal is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loket.channel.inbound_models import InboundMessage
from loket.security.dlp import scan

REDACTIONS_KEY = "loket_redactions"
_CAPTIONED = ("image", "video", "document")


@dataclass(frozen=True, slots=True)
class Shielded:
    text: str | None
    payload: dict[str, Any]
    kinds: tuple[str, ...]


def shield(message: InboundMessage) -> Shielded | None:
    """None when the message carries no secret; otherwise its redacted text and payload."""
    raw = message.raw
    kind = raw.get("type")
    holder: dict[str, Any] | None = None
    field = "body" if kind == "text" else "caption"
    if kind == "text" and isinstance(raw.get("text"), dict):
        holder = raw["text"]
    elif kind in _CAPTIONED and isinstance(raw.get(kind), dict):
        holder = raw[kind]
    original = holder.get(field) if holder is not None else None
    if not isinstance(original, str) or not original:
        return None
    result = scan(original)
    if not result.findings:
        return None
    assert holder is not None and isinstance(kind, str)
    payload = dict(raw)
    payload[kind] = {**holder, field: result.redacted}
    kinds = tuple(sorted(str(k) for k in result.kinds))
    payload[REDACTIONS_KEY] = list(kinds)
    text = result.redacted if message.text == original else message.text
    return Shielded(text=text, payload=payload, kinds=kinds)


def redact_document(doc: Any, replacements: dict[int, dict[str, Any]]) -> Any:
    """A copy of `doc` with the message dicts in `replacements` (by identity) swapped for their
    redacted versions; everything else is shared, not copied."""
    if isinstance(doc, dict):
        if id(doc) in replacements:
            return {k: v for k, v in replacements[id(doc)].items() if k != REDACTIONS_KEY}
        return {key: redact_document(value, replacements) for key, value in doc.items()}
    if isinstance(doc, list):
        return [redact_document(item, replacements) for item in doc]
    return doc
