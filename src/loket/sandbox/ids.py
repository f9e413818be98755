"""Identifiers shaped like Meta's: `wamid.<urlsafe base64>` for messages, long digit strings for nodes."""

from __future__ import annotations

import base64
import itertools
import secrets

_node_counter = itertools.count(1)


def wamid(wa_id: str) -> str:
    # Meta's wamids wrap the customer's number and a random message key; the layout is opaque to clients.
    raw = b"\x15\x02\x00\x11\x18\x0c" + wa_id.encode() + b"\x15\x02\x00" + secrets.token_bytes(12)
    return "wamid." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def node_id() -> str:
    """A Graph node id (media, template, conversation): 16 digits, unique within the process."""
    return f"{secrets.randbelow(9) + 1}{secrets.randbelow(10**8):08d}{next(_node_counter) % 10**7:07d}"


def download_token() -> str:
    return secrets.token_urlsafe(24)
