from __future__ import annotations

import base64
import hashlib
import hmac
import json
import textwrap
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from loket.channel.flows_crypto import (
    DecryptedFlowRequest,
    FlowDecryptionError,
    FlowIntegrityError,
    FlowKeyError,
    FlowMalformedError,
    FlowMediaError,
    MediaCheck,
    decrypt_flow_media,
    decrypt_request,
    decrypt_response,
    encrypt_flow_media,
    encrypt_request,
    encrypt_response,
    generate_key_pair,
    load_private_key,
    load_public_key,
    private_key_to_pem,
    public_key_to_pem,
)

# Written out by hand rather than computed, so the inversion itself is under test.
IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
INVERTED_IV = bytes.fromhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0")
AES_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
PAYLOAD: dict[str, Any] = {
    "version": "3.0",
    "action": "data_exchange",
    "screen": "ACCOUNT",
    "data": {"nama": "Siti Rahayu", "jumlah": 150000, "setuju": True},
    "flow_token": "tok-123",
}

OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=15,
)
json_objects = st.dictionaries(st.text(max_size=12), json_values, max_size=6)


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return generate_key_pair()[0]


@pytest.fixture(scope="module")
def other_private_key() -> rsa.RSAPrivateKey:
    return generate_key_pair()[0]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def raw_request(
    public_key: rsa.RSAPublicKey, plaintext: bytes, aes_key: bytes = AES_KEY, iv: bytes = IV
) -> dict[str, str]:
    """A request body built straight from the protocol description with cryptography primitives."""
    return {
        "encrypted_flow_data": b64(AESGCM(aes_key).encrypt(iv, plaintext, None)),
        "encrypted_aes_key": b64(public_key.encrypt(aes_key, OAEP_SHA256)),
        "initial_vector": b64(iv),
    }


def flip(b64_text: str, index: int) -> str:
    data = bytearray(base64.b64decode(b64_text))
    data[index] ^= 0x01
    return b64(bytes(data))


# ---------------------------------------------------------------- keys


def test_generate_key_pair() -> None:
    private, public = generate_key_pair()
    assert private.key_size == 2048
    assert public.public_numbers() == private.public_key().public_numbers()
    assert public.public_numbers().e == 65537


@pytest.mark.parametrize("passphrase", [None, "rahasia", b"rahasia"])
def test_pkcs8_round_trip(private_key: rsa.RSAPrivateKey, passphrase: str | bytes | None) -> None:
    pem = private_key_to_pem(private_key, passphrase)
    assert pem.startswith("-----BEGIN " + ("ENCRYPTED " if passphrase else "") + "PRIVATE KEY-----")
    loaded = load_private_key(pem, passphrase)
    assert loaded.private_numbers() == private_key.private_numbers()


def _evp_bytes_to_key(passphrase: bytes, salt: bytes, length: int) -> bytes:
    # OpenSSL's legacy PEM key derivation: MD5, one iteration, salt = first 8 bytes of the IV.
    derived, block = b"", b""
    while len(derived) < length:
        block = hashlib.md5(block + passphrase + salt, usedforsecurity=False).digest()
        derived += block
    return derived[:length]


def meta_style_pem(key: rsa.RSAPrivateKey, passphrase: bytes) -> bytes:
    """PKCS#1 PEM encrypted with DES-EDE3-CBC, the format Meta's key generator writes, built by hand."""
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    iv = bytes.fromhex("0123456789abcdef")
    padder = sym_padding.PKCS7(64).padder()
    padded = padder.update(der) + padder.finalize()
    cipher = Cipher(TripleDES(_evp_bytes_to_key(passphrase, iv[:8], 24)), modes.CBC(iv)).encryptor()
    body = "\n".join(textwrap.wrap(b64(cipher.update(padded) + cipher.finalize()), 64))
    return (
        "-----BEGIN RSA PRIVATE KEY-----\n"
        "Proc-Type: 4,ENCRYPTED\n"
        f"DEK-Info: DES-EDE3-CBC,{iv.hex().upper()}\n\n"
        f"{body}\n-----END RSA PRIVATE KEY-----\n"
    ).encode()


def test_loads_meta_style_des_ede3_pkcs1_key(private_key: rsa.RSAPrivateKey) -> None:
    pem = meta_style_pem(private_key, b"kata sandi")
    assert load_private_key(pem, "kata sandi").private_numbers() == private_key.private_numbers()
    with pytest.raises(FlowKeyError):
        load_private_key(pem, "salah")
    with pytest.raises(FlowKeyError):
        load_private_key(pem)


def test_loads_unencrypted_pkcs1_key(private_key: rsa.RSAPrivateKey) -> None:
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    assert pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert load_private_key(pem).private_numbers() == private_key.private_numbers()
    with pytest.raises(FlowKeyError):
        load_private_key(pem, "unexpected passphrase")


def test_rejects_keys_that_are_not_usable() -> None:
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - must be refused
    with pytest.raises(FlowKeyError, match="RSA"):
        load_private_key(ec_pem)
    with pytest.raises(FlowKeyError, match="too small"):
        load_private_key(private_key_to_pem(weak))
    with pytest.raises(FlowKeyError):
        load_private_key("-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n")
    with pytest.raises(FlowKeyError):
        load_public_key("not a key")
    with pytest.raises(FlowKeyError, match="RSA"):
        load_public_key(
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )


def test_public_key_pem_round_trip(private_key: rsa.RSAPrivateKey) -> None:
    pem = public_key_to_pem(private_key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert pem == public_key_to_pem(private_key.public_key())
    assert load_public_key(pem).public_numbers() == private_key.public_key().public_numbers()


# ---------------------------------------------------------------- request (business side)


def test_decrypts_a_request_built_from_primitives(private_key: rsa.RSAPrivateKey) -> None:
    body = raw_request(private_key.public_key(), json.dumps(PAYLOAD).encode())
    decrypted = decrypt_request(body, private_key)
    assert decrypted.payload == PAYLOAD
    assert decrypted.aes_key == AES_KEY
    assert decrypted.iv == IV


def test_decrypted_request_repr_hides_key_and_payload(private_key: rsa.RSAPrivateKey) -> None:
    decrypted = decrypt_request(raw_request(private_key.public_key(), json.dumps(PAYLOAD).encode()), private_key)
    text = repr(decrypted)
    assert "Siti" not in text
    assert AES_KEY.hex() not in text
    assert repr(AES_KEY) not in text
    assert isinstance(decrypted, DecryptedFlowRequest)


def test_oaep_must_use_sha256(private_key: rsa.RSAPrivateKey) -> None:
    body = raw_request(private_key.public_key(), json.dumps(PAYLOAD).encode())
    sha1_oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303
    body["encrypted_aes_key"] = b64(private_key.public_key().encrypt(AES_KEY, sha1_oaep))
    with pytest.raises(FlowDecryptionError):
        decrypt_request(body, private_key)


def test_wrong_private_key_is_a_decryption_error(
    private_key: rsa.RSAPrivateKey, other_private_key: rsa.RSAPrivateKey
) -> None:
    body = encrypt_request(PAYLOAD, other_private_key.public_key()).body
    with pytest.raises(FlowDecryptionError):
        decrypt_request(body, private_key)


@pytest.mark.parametrize("index", [0, 100, 255])
def test_tampered_aes_key_is_a_decryption_error(private_key: rsa.RSAPrivateKey, index: int) -> None:
    body = encrypt_request(PAYLOAD, private_key.public_key()).body
    body["encrypted_aes_key"] = flip(body["encrypted_aes_key"], index)
    with pytest.raises(FlowDecryptionError):
        decrypt_request(body, private_key)


def test_truncated_aes_key_is_a_decryption_error(private_key: rsa.RSAPrivateKey) -> None:
    body = encrypt_request(PAYLOAD, private_key.public_key()).body
    body["encrypted_aes_key"] = b64(base64.b64decode(body["encrypted_aes_key"])[:-1])
    with pytest.raises(FlowDecryptionError):
        decrypt_request(body, private_key)


def test_tampered_ciphertext_tag_or_iv_fails_authentication(private_key: rsa.RSAPrivateKey) -> None:
    body = encrypt_request(PAYLOAD, private_key.public_key()).body
    sealed_length = len(base64.b64decode(body["encrypted_flow_data"]))
    for tampered in (
        {**body, "encrypted_flow_data": flip(body["encrypted_flow_data"], 0)},
        {**body, "encrypted_flow_data": flip(body["encrypted_flow_data"], sealed_length - 1)},
        {**body, "encrypted_flow_data": flip(body["encrypted_flow_data"], sealed_length - 16)},
        {**body, "initial_vector": flip(body["initial_vector"], 3)},
    ):
        with pytest.raises(FlowIntegrityError):
            decrypt_request(tampered, private_key)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_bit_flip_in_flow_data_is_detected(private_key: rsa.RSAPrivateKey, data: st.DataObject) -> None:
    body = raw_request(private_key.public_key(), json.dumps(PAYLOAD).encode())
    sealed = bytearray(base64.b64decode(body["encrypted_flow_data"]))
    index = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1))
    sealed[index] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
    with pytest.raises(FlowIntegrityError):
        decrypt_request({**body, "encrypted_flow_data": b64(bytes(sealed))}, private_key)


def _valid_body(private_key: rsa.RSAPrivateKey) -> dict[str, str]:
    return raw_request(private_key.public_key(), json.dumps(PAYLOAD).encode())


@pytest.mark.parametrize(
    "mutate",
    [
        lambda body: body.pop("encrypted_flow_data"),
        lambda body: body.pop("encrypted_aes_key"),
        lambda body: body.pop("initial_vector"),
        lambda body: body.update(initial_vector=12345),
        lambda body: body.update(encrypted_aes_key="@@not base64@@"),
        lambda body: body.update(encrypted_flow_data="YWJj"),  # shorter than a GCM tag
        lambda body: body.update(initial_vector=b64(b"1234")),  # too short for GCM
    ],
)
def test_malformed_request_bodies(private_key: rsa.RSAPrivateKey, mutate: Any) -> None:
    body: dict[str, Any] = _valid_body(private_key)
    mutate(body)
    with pytest.raises(FlowMalformedError):
        decrypt_request(body, private_key)


def test_request_body_that_is_not_an_object(private_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(FlowMalformedError):
        decrypt_request(["encrypted_flow_data"], private_key)  # type: ignore[arg-type]


def test_wrapped_key_must_be_aes_128(private_key: rsa.RSAPrivateKey) -> None:
    body = raw_request(private_key.public_key(), b"{}", aes_key=bytes(range(32)))
    with pytest.raises(FlowMalformedError, match="16"):
        decrypt_request(body, private_key)


@pytest.mark.parametrize("plaintext", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe{}"])
def test_plaintext_must_be_a_utf8_json_object(private_key: rsa.RSAPrivateKey, plaintext: bytes) -> None:
    with pytest.raises(FlowMalformedError):
        decrypt_request(raw_request(private_key.public_key(), plaintext), private_key)


# ---------------------------------------------------------------- request (client side)


def test_encrypt_request_follows_the_protocol(private_key: rsa.RSAPrivateKey) -> None:
    body, aes_key, iv = encrypt_request(PAYLOAD, private_key.public_key())
    assert set(body) == {"encrypted_flow_data", "encrypted_aes_key", "initial_vector"}
    assert len(aes_key) == 16
    assert base64.b64decode(body["initial_vector"]) == iv
    assert private_key.decrypt(base64.b64decode(body["encrypted_aes_key"]), OAEP_SHA256) == aes_key
    plaintext = AESGCM(aes_key).decrypt(iv, base64.b64decode(body["encrypted_flow_data"]), None)
    assert json.loads(plaintext) == PAYLOAD


def test_encrypt_request_uses_fresh_key_and_iv(private_key: rsa.RSAPrivateKey) -> None:
    first = encrypt_request(PAYLOAD, private_key.public_key())
    second = encrypt_request(PAYLOAD, private_key.public_key())
    assert first.aes_key != second.aes_key
    assert first.iv != second.iv
    assert first.aes_key.hex() not in repr(first)


@settings(max_examples=30, deadline=None)
@given(payload=json_objects)
def test_request_round_trip(private_key: rsa.RSAPrivateKey, payload: dict[str, Any]) -> None:
    body, aes_key, iv = encrypt_request(payload, private_key.public_key())
    decrypted = decrypt_request(json.loads(json.dumps(body)), private_key)
    assert decrypted.payload == payload
    assert (decrypted.aes_key, decrypted.iv) == (aes_key, iv)


# ---------------------------------------------------------------- response


def test_response_uses_the_bit_inverted_iv() -> None:
    sealed = base64.b64decode(encrypt_response(PAYLOAD, AES_KEY, IV))
    assert json.loads(AESGCM(AES_KEY).decrypt(INVERTED_IV, sealed, None)) == PAYLOAD
    with pytest.raises(InvalidTag):
        AESGCM(AES_KEY).decrypt(IV, sealed, None)


def test_response_is_ciphertext_then_16_byte_tag() -> None:
    sealed = base64.b64decode(encrypt_response(PAYLOAD, AES_KEY, IV))
    ciphertext, tag = sealed[:-16], sealed[-16:]
    decryptor = Cipher(algorithms.AES(AES_KEY), modes.GCM(INVERTED_IV, tag)).decryptor()
    assert json.loads(decryptor.update(ciphertext) + decryptor.finalize()) == PAYLOAD


def test_decrypts_a_response_built_from_primitives() -> None:
    text = b64(AESGCM(AES_KEY).encrypt(INVERTED_IV, json.dumps(PAYLOAD).encode(), None))
    assert decrypt_response(text, AES_KEY, IV) == PAYLOAD


def test_response_under_the_original_iv_is_rejected() -> None:
    text = b64(AESGCM(AES_KEY).encrypt(IV, json.dumps(PAYLOAD).encode(), None))
    with pytest.raises(FlowIntegrityError):
        decrypt_response(text, AES_KEY, IV)


def test_response_tampering_and_wrong_key() -> None:
    text = encrypt_response(PAYLOAD, AES_KEY, IV)
    sealed_length = len(base64.b64decode(text))
    with pytest.raises(FlowIntegrityError):
        decrypt_response(flip(text, 0), AES_KEY, IV)
    with pytest.raises(FlowIntegrityError):
        decrypt_response(flip(text, sealed_length - 1), AES_KEY, IV)
    with pytest.raises(FlowIntegrityError):
        decrypt_response(text, bytes(16), IV)
    with pytest.raises(FlowIntegrityError):
        decrypt_response(text, AES_KEY, INVERTED_IV)
    with pytest.raises(FlowMalformedError):
        decrypt_response("***", AES_KEY, IV)
    with pytest.raises(FlowMalformedError):
        decrypt_response(b64(b"short"), AES_KEY, IV)


def test_response_requires_aes_128_and_json() -> None:
    with pytest.raises(ValueError, match="AES-128"):
        encrypt_response(PAYLOAD, bytes(32), IV)
    with pytest.raises(ValueError, match="JSON"):
        encrypt_response({"amount": float("nan")}, AES_KEY, IV)


@settings(max_examples=60)
@given(
    payload=json_objects,
    aes_key=st.binary(min_size=16, max_size=16),
    iv=st.binary(min_size=12, max_size=16),
)
def test_response_round_trip(payload: dict[str, Any], aes_key: bytes, iv: bytes) -> None:
    assert decrypt_response(encrypt_response(payload, aes_key, iv), aes_key, iv) == payload


@settings(max_examples=20, deadline=None)
@given(payload=json_objects, reply=json_objects)
def test_full_exchange_round_trip(
    private_key: rsa.RSAPrivateKey, payload: dict[str, Any], reply: dict[str, Any]
) -> None:
    body, aes_key, iv = encrypt_request(payload, private_key.public_key())
    decrypted = decrypt_request(body, private_key)
    text = encrypt_response(reply, decrypted.aes_key, decrypted.iv)
    assert decrypt_response(text, aes_key, iv) == reply


# ---------------------------------------------------------------- Flow media

MEDIA_KEY = bytes(range(32))
MEDIA_HMAC_KEY = bytes(range(100, 132))
MEDIA_IV = bytes(range(200, 216))


def raw_media(plaintext: bytes, *, padded: bytes | None = None) -> tuple[bytes, dict[str, str]]:
    """A Flow media file and its metadata, built from the description with primitives."""
    if padded is None:
        padder = sym_padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(MEDIA_KEY), modes.CBC(MEDIA_IV)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    blob = ciphertext + hmac.new(MEDIA_HMAC_KEY, MEDIA_IV + ciphertext, hashlib.sha256).digest()[:10]
    return blob, {
        "encrypted_hash": b64(hashlib.sha256(blob).digest()),
        "iv": b64(MEDIA_IV),
        "encryption_key": b64(MEDIA_KEY),
        "hmac_key": b64(MEDIA_HMAC_KEY),
        "plaintext_hash": b64(hashlib.sha256(plaintext).digest()),
    }


def rehash(blob: bytes, metadata: dict[str, str]) -> dict[str, str]:
    return {**metadata, "encrypted_hash": b64(hashlib.sha256(blob).digest())}


def test_decrypts_media_built_from_primitives() -> None:
    blob, metadata = raw_media(b"%PDF-1.7 slip gaji")
    assert decrypt_flow_media(blob, metadata) == b"%PDF-1.7 slip gaji"


def test_encrypt_flow_media_follows_the_description() -> None:
    plaintext = b"\x89PNG foto KTP" * 7
    blob, metadata = encrypt_flow_media(plaintext)
    raw = {name: base64.b64decode(value) for name, value in metadata.items()}
    assert hashlib.sha256(blob).digest() == raw["encrypted_hash"]
    ciphertext, trailer = blob[:-10], blob[-10:]
    assert trailer == hmac.new(raw["hmac_key"], raw["iv"] + ciphertext, hashlib.sha256).digest()[:10]
    decryptor = Cipher(algorithms.AES(raw["encryption_key"]), modes.CBC(raw["iv"])).decryptor()
    unpadder = sym_padding.PKCS7(128).unpadder()
    decrypted = unpadder.update(decryptor.update(ciphertext) + decryptor.finalize()) + unpadder.finalize()
    assert decrypted == plaintext
    assert hashlib.sha256(plaintext).digest() == raw["plaintext_hash"]
    again = encrypt_flow_media(plaintext)
    assert again.metadata["encryption_key"] not in repr(again)
    assert again.blob != blob


@settings(max_examples=50)
@given(plaintext=st.binary(max_size=4096))
def test_media_round_trip(plaintext: bytes) -> None:
    blob, metadata = encrypt_flow_media(plaintext)
    assert decrypt_flow_media(blob, metadata) == plaintext


def _expect_media_error(check: MediaCheck, blob: bytes, metadata: Any) -> None:
    with pytest.raises(FlowMediaError) as caught:
        decrypt_flow_media(blob, metadata)
    assert caught.value.check is check


def test_tampered_file_fails_the_encrypted_hash() -> None:
    blob, metadata = raw_media(b"dokumen")
    _expect_media_error(MediaCheck.ENCRYPTED_HASH, blob[:-1] + bytes([blob[-1] ^ 1]), metadata)
    _expect_media_error(MediaCheck.ENCRYPTED_HASH, blob, {**metadata, "encrypted_hash": b64(bytes(32))})


def test_tampered_ciphertext_or_trailer_fails_the_hmac() -> None:
    blob, metadata = raw_media(b"dokumen" * 5)
    bad_ciphertext = bytes([blob[0] ^ 1]) + blob[1:]
    _expect_media_error(MediaCheck.HMAC, bad_ciphertext, rehash(bad_ciphertext, metadata))
    bad_trailer = blob[:-1] + bytes([blob[-1] ^ 1])
    _expect_media_error(MediaCheck.HMAC, bad_trailer, rehash(bad_trailer, metadata))
    _expect_media_error(MediaCheck.HMAC, blob, {**metadata, "hmac_key": b64(bytes(32))})
    _expect_media_error(MediaCheck.HMAC, blob[:5], rehash(blob[:5], metadata))


def test_wrong_plaintext_hash() -> None:
    blob, metadata = raw_media(b"dokumen")
    _expect_media_error(
        MediaCheck.PLAINTEXT_HASH, blob, {**metadata, "plaintext_hash": b64(hashlib.sha256(b"lain").digest())}
    )


def test_bad_padding_is_reported() -> None:
    blob, metadata = raw_media(b"x" * 16, padded=b"x" * 16)  # a full block with no padding at all
    _expect_media_error(MediaCheck.PADDING, blob, metadata)


def test_ciphertext_not_a_whole_number_of_blocks() -> None:
    ciphertext = b"\x00" * 15
    blob = ciphertext + hmac.new(MEDIA_HMAC_KEY, MEDIA_IV + ciphertext, hashlib.sha256).digest()[:10]
    _, metadata = raw_media(b"")
    _expect_media_error(MediaCheck.PADDING, blob, rehash(blob, metadata))


@pytest.mark.parametrize(
    "change",
    [
        {"iv": None},
        {"hmac_key": "%%%"},
        {"iv": b64(bytes(8))},
        {"encryption_key": b64(bytes(20))},
        {"encrypted_hash": b64(bytes(31))},
        {"hmac_key": ""},
    ],
)
def test_bad_metadata(change: dict[str, Any]) -> None:
    blob, metadata = raw_media(b"dokumen")
    changed = {**metadata, **change}
    _expect_media_error(MediaCheck.METADATA, blob, {k: v for k, v in changed.items() if v is not None})


def test_metadata_that_is_not_an_object() -> None:
    blob, _ = raw_media(b"dokumen")
    _expect_media_error(MediaCheck.METADATA, blob, "metadata")
