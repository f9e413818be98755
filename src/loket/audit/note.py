"""Checkpoints as C2SP signed notes (tlog-checkpoint + signed-note), Ed25519 signature type 0x01.

    <origin>\\n<tree size>\\n<base64 root>\\ntime <unix seconds>\\n\\n— <key name> <base64(key id || signature)>\\n

The `time` extension line lets a verifier refuse a checkpoint signed by a key after that key was
retired: a stolen old key cannot vouch for a truncated log after a rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from loket.audit.merkle import HASH_SIZE

ED25519 = 0x01
DASH = "\u2014"


class NoteError(Exception):
    """A checkpoint that is malformed, unsigned by a known key, or signed outside the key's validity."""


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name) or not name.isprintable():
        raise NoteError(f"invalid key name {name!r}: no spaces, no '+'")
    return name


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True)
class PublicKey:
    """A checkpoint signing key as published: valid for checkpoints timed in [valid_from, retired_at)."""

    tenant: str
    name: str
    public: bytes
    valid_from: int
    retired_at: int | None = None

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public)

    def vkey(self) -> str:
        """The signed-note verifier key string: <name>+<hex key id>+<base64(type || public key)>."""
        data = base64.b64encode(bytes([ED25519]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{data}"

    def valid_at(self, when: int) -> bool:
        return self.valid_from <= when and (self.retired_at is None or when < self.retired_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "name": self.name,
            "key_id": self.key_id.hex(),
            "vkey": self.vkey(),
            "valid_from": _stamp(self.valid_from),
            "retired_at": None if self.retired_at is None else _stamp(self.retired_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PublicKey:
        name, hex_id, b64 = str(data["vkey"]).split("+", 2)
        raw = base64.b64decode(b64, validate=True)
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError(f"{data['vkey']}: not an Ed25519 verifier key")
        key = cls(str(data["tenant"]), name, raw[1:], _unstamp(data["valid_from"]), None)
        if data.get("retired_at"):
            key = replace(key, retired_at=_unstamp(data["retired_at"]))
        if key.key_id.hex() != hex_id:
            raise NoteError(f"{data['vkey']}: key id does not match the key")
        return key


def _stamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unstamp(text: object) -> int:
    return ts(datetime.fromisoformat(str(text)))


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: int

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\ntime {self.time}\n"


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    key: PublicKey
    text: str


def sign(checkpoint: Checkpoint, name: str, private: Ed25519PrivateKey) -> str:
    body = checkpoint.body()
    public = private.public_key().public_bytes_raw()
    signature = private.sign(body.encode())
    blob = base64.b64encode(key_id(_check_name(name), public) + signature).decode()
    return f"{body}\n{DASH} {name} {blob}\n"


def parse_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint has at least three lines, each ending in a newline")
    origin, size_text, root_text, *extensions = lines[:-1]
    if not origin or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError("bad origin or tree size line")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise NoteError("the root hash is not base64") from None
    if len(root) != HASH_SIZE:
        raise NoteError("the root hash is not 32 bytes")
    times = [e[5:] for e in extensions if e.startswith("time ")]
    if len(times) != 1 or not times[0].isdigit():
        raise NoteError("a Loket checkpoint carries exactly one 'time <unix seconds>' line")
    return Checkpoint(origin, int(size_text), root, int(times[0]))


def split_note(text: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    if not text.endswith("\n") or "\n\n" not in text:
        raise NoteError("not a signed note: no blank line before the signatures")
    cut = text.index("\n\n")
    body, sig_block = text[: cut + 1], text[cut + 2 :]
    signatures = []
    for line in sig_block.split("\n")[:-1]:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise NoteError(f"malformed signature line {line[:80]!r}")
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            raise NoteError("signature is not base64") from None
        if len(blob) < 5:
            raise NoteError("signature too short")
        signatures.append((parts[1], blob[:4], blob[4:]))
    if not signatures:
        raise NoteError("the note has no signature")
    return body, signatures


def open_checkpoint(text: str, keys: Sequence[PublicKey], *, origin: str | None = None) -> SignedCheckpoint:
    """Verify a checkpoint note: a known key's signature, that key valid at the checkpoint's time."""
    body, signatures = split_note(text)
    checkpoint = parse_body(body)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"origin {checkpoint.origin!r} is not the expected {origin!r}")
    known = {(k.name, k.key_id): k for k in keys}
    for name, kid, signature in signatures:
        key = known.get((name, kid))
        if key is None:
            continue  # signed-note: ignore signatures by unknown keys
        try:
            Ed25519PublicKey.from_public_bytes(key.public).verify(signature, body.encode())
        except InvalidSignature:
            raise NoteError(f"bad signature by {name} ({kid.hex()})") from None
        if not key.valid_at(checkpoint.time):
            when = _stamp(checkpoint.time)
            if key.retired_at is not None and checkpoint.time >= key.retired_at:
                raise NoteError(
                    f"signed at {when} by key {kid.hex()} which was retired at {_stamp(key.retired_at)}"
                    " (a stolen old key?)"
                )
            raise NoteError(f"signed at {when}, before key {kid.hex()} became valid")
        return SignedCheckpoint(checkpoint, key, text)
    raise NoteError("no signature by a known key")
