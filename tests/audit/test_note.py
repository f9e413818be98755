"""C2SP checkpoint text, signed-note signatures, key ids and key validity periods."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from loket.audit.note import DASH, Checkpoint, NoteError, PublicKey, key_id, open_checkpoint, sign

NAME = "loket.test/audit/bank"
PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = PRIVATE.public_key().public_bytes_raw()
KEY = PublicKey("bank", NAME, PUBLIC, valid_from=1_000, retired_at=2_000)
CP = Checkpoint(NAME, 5, hashlib.sha256(b"root").digest(), 1_500)


def test_text_format_follows_c2sp() -> None:
    text = sign(CP, NAME, PRIVATE)
    body, signature_line = text.split("\n\n")
    assert body + "\n" == f"{NAME}\n5\n{base64.b64encode(CP.root).decode()}\ntime 1500\n"
    dash, name, blob = signature_line.rstrip("\n").split(" ")
    assert (dash, name) == (DASH, NAME) and text.endswith("\n")
    raw = base64.b64decode(blob)
    assert raw[:4] == hashlib.sha256(NAME.encode() + b"\n\x01" + PUBLIC).digest()[:4] == key_id(NAME, PUBLIC)
    assert len(raw) == 4 + 64
    assert open_checkpoint(text, [KEY]).checkpoint == CP


def test_vkey_round_trip() -> None:
    data = KEY.to_json()
    encoded = base64.b64encode(bytes([1]) + PUBLIC).decode()
    assert data["vkey"] == f"{NAME}+{key_id(NAME, PUBLIC).hex()}+{encoded}"
    assert PublicKey.from_json(data) == KEY


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.replace("\n5\n", "\n6\n"), "bad signature"),
        (lambda t: t.replace("\n5\n", "\n05\n"), "tree size"),
        (lambda t: t.replace("time 1500\n", ""), "time"),
        (lambda t: t.split("\n\n")[0] + "\n", "no blank line"),
        (lambda t: t.replace(NAME + " ", "someone.else "), "no signature by a known key"),
    ],
)
def test_rejects_tampered_or_malformed_notes(mutate: object, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        open_checkpoint(mutate(sign(CP, NAME, PRIVATE)), [KEY])  # type: ignore[operator]


def test_key_validity_period() -> None:
    after = Checkpoint(NAME, 9, CP.root, 2_000)
    with pytest.raises(NoteError, match="retired"):
        open_checkpoint(sign(after, NAME, PRIVATE), [KEY])
    before = Checkpoint(NAME, 1, CP.root, 999)
    with pytest.raises(NoteError, match="before key"):
        open_checkpoint(sign(before, NAME, PRIVATE), [KEY])


def test_unknown_signatures_are_ignored_when_a_known_one_verifies() -> None:
    other = Ed25519PrivateKey.generate()
    text = sign(CP, NAME, PRIVATE)
    extra = sign(CP, "witness.example", other).split("\n\n")[1]
    assert open_checkpoint(text + extra, [KEY]).key == KEY


def test_the_example_in_docs_audit_md_verifies() -> None:
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "audit.md").read_text()
    start = docs.index("```\nloket.bank.example/audit/bank-nusantara\n4021") + 4
    note = docs[start : docs.index("```", start)]
    key = PublicKey.from_json(
        {
            "tenant": "bank-nusantara",
            "vkey": "loket.bank.example/audit/bank-nusantara+de41272e+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
            "valid_from": "2026-11-25T09:46:40Z",
        }
    )
    assert open_checkpoint(note, [key]).checkpoint.size == 4021
