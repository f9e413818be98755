from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.channel import signature
from loket.channel.signature import SignatureCheck, check_signature, sign, verify_signature

SECRET = b"app-secret-for-tests"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def test_sign_matches_rfc_4231_vector() -> None:
    # RFC 4231, test case 2: HMAC-SHA256 with key "Jefe".
    assert sign(b"what do ya want for nothing?", b"Jefe") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_valid_signature() -> None:
    header = "sha256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()
    assert check_signature(BODY, header, SECRET) is SignatureCheck.VALID
    assert verify_signature(BODY, header, SECRET) is True


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header_is_distinguished(header: str | None) -> None:
    assert check_signature(BODY, header, SECRET) is SignatureCheck.MISSING
    assert verify_signature(BODY, header, SECRET) is False


@pytest.mark.parametrize(
    "header",
    [
        sign(BODY, b"another-secret"),
        sign(BODY + b" ", SECRET),
        sign(BODY, SECRET).removeprefix("sha256="),
        "sha1=" + hashlib.sha1(BODY).hexdigest(),  # noqa: S324 - a wrong-algorithm header on purpose
        "sha256=not-hex",
        "sha256=",
        "sha256=" + "é" * 64,
        sign(BODY, SECRET)[:-2],
    ],
)
def test_wrong_signature_is_invalid(header: str) -> None:
    assert check_signature(BODY, header, SECRET) is SignatureCheck.INVALID
    assert verify_signature(BODY, header, SECRET) is False


def test_uppercase_hex_and_surrounding_whitespace_are_accepted() -> None:
    header = "sha256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest().upper()
    assert verify_signature(BODY, f"  {header}\t", SECRET)


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        sign(BODY, b"")
    with pytest.raises(ValueError, match="empty"):
        verify_signature(BODY, sign(BODY, SECRET), b"")


def test_comparison_uses_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signature.hmac, "compare_digest", spy)
    assert verify_signature(BODY, sign(BODY, SECRET), SECRET)
    assert not verify_signature(BODY, sign(BODY, b"other"), SECRET)
    assert len(calls) == 2
    assert calls[0][0] == calls[0][1] == hmac.new(SECRET, BODY, hashlib.sha256).digest()


@given(body=st.binary(max_size=2048), secret=st.binary(min_size=1, max_size=64))
def test_sign_then_verify(body: bytes, secret: bytes) -> None:
    assert check_signature(body, sign(body, secret), secret) is SignatureCheck.VALID


@given(body=st.binary(min_size=1, max_size=512), data=st.data())
def test_any_flipped_body_byte_is_invalid(body: bytes, data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=7))
    tampered = bytearray(body)
    tampered[index] ^= 1 << bit
    assert check_signature(bytes(tampered), sign(body, SECRET), SECRET) is SignatureCheck.INVALID
