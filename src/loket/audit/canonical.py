"""The leaf: one audit entry as canonical bytes, and the keyed hashes that stand in for personal data.

Canonical form (docs/audit.md): a JSON object with keys sorted by code point, no insignificant
whitespace, UTF-8, strings escaped only where JSON requires it, integers and booleans but no
floats. orjson produces exactly that; the verifier recomputes the bytes from the fields.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from loket.audit.events import iso
from loket.audit.merkle import leaf_hash

LEAF_VERSION = 1
PSEUDONYM_PREFIX = "hmac1:"


def canonical(obj: object) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit entry at its place in its tenant's log; its leaf is `canonical(self.leaf())`."""

    tenant: str
    index: int
    type: str
    at: datetime
    actor: str | None
    fields: dict[str, Any]

    def leaf(self) -> dict[str, Any]:
        return {
            "v": LEAF_VERSION,
            "tenant": self.tenant,
            "index": self.index,
            "type": self.type,
            "at": iso(self.at),
            "actor": self.actor,
            "fields": self.fields,
        }

    def leaf_bytes(self) -> bytes:
        return canonical(self.leaf())

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.leaf_bytes())

    def at_index(self, index: int) -> Entry:
        return Entry(self.tenant, index, self.type, self.at, self.actor, self.fields)

    @classmethod
    def from_leaf(cls, leaf: dict[str, Any]) -> Entry:
        """Rebuild an entry from its leaf object (bundles); raises KeyError/ValueError/TypeError if malformed."""
        if leaf.get("v") != LEAF_VERSION:
            raise ValueError(f"unknown leaf version {leaf.get('v')!r}")
        extra = set(leaf) - {"v", "tenant", "index", "type", "at", "actor", "fields"}
        if extra:
            raise ValueError(f"unexpected leaf keys {sorted(extra)}")
        index, fields = leaf["index"], leaf["fields"]
        if not isinstance(index, int) or not isinstance(fields, dict):
            raise TypeError("index must be an integer and fields an object")
        return cls(
            str(leaf["tenant"]), index, str(leaf["type"]), datetime.fromisoformat(leaf["at"]), leaf["actor"], fields
        )


class Pseudonymizer:
    """HMAC-SHA256 under a per-tenant key derived (HKDF) from the master key.

    The same person gets the same pseudonym within a tenant, so the log can be searched for them,
    but nobody without the master key can tell who it is, and no pseudonym links across tenants.
    """

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._master = master_key
        self._keys: dict[str, bytes] = {}

    def _key(self, tenant: str) -> bytes:
        key = self._keys.get(tenant)
        if key is None:
            info = b"loket/audit/pseudonym/v1|" + tenant.encode()
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(self._master)
            self._keys[tenant] = key
        return key

    def pseudonym(self, tenant: str, value: str) -> str:
        mac = hmac.digest(self._key(tenant), value.encode(), hashlib.sha256)
        return PSEUDONYM_PREFIX + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
