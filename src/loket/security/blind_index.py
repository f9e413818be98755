"""Blind index: a keyed HMAC of a normalised phone number, for equality look-ups on encrypted data.

Each tenant has its own random index key (stored wrapped under the tenant's KEK, never derivable
from the database alone), so the same person has unrelated indexes at two institutions. Equal
numbers share an index: equality is what the index is for, and all it reveals. 128 bits: the
index is a unique key of `customer_keys`, so it must not collide; the number space (~10^12) is what
bounds guessing, and that needs the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re

INDEX_BYTES = 16
_NOT_DIGIT = re.compile(r"[^0-9]")


class PhoneNumberError(ValueError):
    """The value cannot be a phone number (no digits, or too many)."""


def normalise_phone(value: str) -> str:
    """E.164 digits without '+': WhatsApp's wa_id form. A local Indonesian 08... becomes 628..."""
    digits = _NOT_DIGIT.sub("", value)
    if value.strip().startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = "62" + digits[1:]
    if not 6 <= len(digits) <= 15:
        raise PhoneNumberError("not a phone number: expected 6 to 15 digits")
    return digits


class BlindIndexer:
    def __init__(self, index_key: bytes) -> None:
        if len(index_key) != 32:
            raise ValueError("the blind-index key must be 32 bytes")
        self._key = index_key

    def _index(self, kind: bytes, value: str) -> str:
        return hmac.new(self._key, kind + b"|" + value.encode(), hashlib.sha256).digest()[:INDEX_BYTES].hex()

    def phone(self, value: str) -> str:
        """Raises PhoneNumberError for what cannot be a phone number."""
        return self._index(b"phone", normalise_phone(value))

    def wa_id(self, value: str) -> str:
        """A WhatsApp id: the phone index when it is a number (always, from Meta), else the id as given."""
        try:
            return self.phone(value)
        except PhoneNumberError:
            return self._index(b"wa_id", value)
