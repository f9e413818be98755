"""The sealed field format: round trips, and every way a ciphertext can be wrong is a typed error."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from loket.security.envelope import HEADER_BYTES, CiphertextError, key_id_of, open_sealed, seal

WHERE = {"table": "inbound_messages", "column": "sealed", "row": "wamid.A1"}


@pytest.fixture
def aead() -> AESGCM:
    return AESGCM(bytes(range(32)))


@pytest.mark.parametrize("plaintext", [b"", b"halo", "saldo saya berapa? 😊".encode(), os.urandom(70_000)])
def test_round_trip(aead: AESGCM, plaintext: bytes) -> None:
    blob = seal(aead, 42, plaintext, **WHERE)
    assert key_id_of(blob, **WHERE) == 42
    assert open_sealed(aead, blob, **WHERE) == plaintext
    assert plaintext == b"" or plaintext not in blob


def test_same_plaintext_seals_differently(aead: AESGCM) -> None:
    assert seal(aead, 1, b"halo", **WHERE) != seal(aead, 1, b"halo", **WHERE)


@pytest.mark.parametrize("position", [0, 1, HEADER_BYTES, HEADER_BYTES + 12, -1])
def test_any_flipped_bit_is_detected(aead: AESGCM, position: int) -> None:
    blob = bytearray(seal(aead, 7, b"transfer ke rekening istri", **WHERE))
    blob[position] ^= 0x01
    with pytest.raises(CiphertextError):
        open_sealed(aead, bytes(blob), **WHERE)


@pytest.mark.parametrize(
    "moved",
    [
        {"row": "wamid.B2"},  # swapped into another row
        {"column": "payload"},  # into another column
        {"table": "outbox"},  # into another table
    ],
)
def test_a_ciphertext_moved_elsewhere_does_not_decrypt(aead: AESGCM, moved: dict[str, str]) -> None:
    blob = seal(aead, 7, b"halo", **WHERE)
    with pytest.raises(CiphertextError, match="authentication failed"):
        open_sealed(aead, blob, **{**WHERE, **moved})


def test_relabelled_key_id_does_not_decrypt(aead: AESGCM) -> None:
    blob = seal(aead, 7, b"halo", **WHERE)
    relabelled = seal(aead, 8, b"x", **WHERE)[:HEADER_BYTES] + blob[HEADER_BYTES:]
    assert key_id_of(relabelled, **WHERE) == 8
    with pytest.raises(CiphertextError):
        open_sealed(aead, relabelled, **WHERE)


def test_wrong_key_does_not_decrypt(aead: AESGCM) -> None:
    blob = seal(aead, 7, b"halo", **WHERE)
    with pytest.raises(CiphertextError):
        open_sealed(AESGCM(os.urandom(32)), blob, **WHERE)


@pytest.mark.parametrize("blob", [b"", b"halo", b'{"object": "whatsapp_business_account"}', b"\x02" + b"\x00" * 20])
def test_what_is_not_sealed_is_refused(aead: AESGCM, blob: bytes) -> None:
    with pytest.raises(CiphertextError, match="not a sealed value"):
        open_sealed(aead, blob, **WHERE)
