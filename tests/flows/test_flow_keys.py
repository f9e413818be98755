"""The Flows business key: configuration names, refusals an operator can act on, the demo key."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from loket.channel.flows_crypto import generate_private_key, load_private_key, public_key_to_pem
from loket.config import ConfigError, Mode, load_settings
from loket.demo import demo_settings
from loket.flows.keys import DEMO_KEY_FILE, ensure_demo_flows_key, load_flows_key


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOKET_FLOWS_PRIVATE_KEY_FILE", "LOKET_FLOWS_PRIVATE_KEY_PASSPHRASE", "LOKET_MODE", "LOKET_VAR_DIR"):
        monkeypatch.delenv(name, raising=False)


def write_pkcs1(path: Path, passphrase: bytes | None) -> str:
    """A PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), the form Meta's key generator writes."""
    key = generate_private_key()
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, encryption)
    )
    path.chmod(0o600)
    return public_key_to_pem(key)


def test_key_file_and_passphrase_come_from_the_documented_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    public = write_pkcs1(tmp_path / "flows.pem", b"rahasia")
    monkeypatch.setenv("LOKET_MODE", "demo")
    monkeypatch.setenv("LOKET_FLOWS_PRIVATE_KEY_FILE", str(tmp_path / "flows.pem"))
    monkeypatch.setenv("LOKET_FLOWS_PRIVATE_KEY_PASSPHRASE", "rahasia")
    settings = load_settings()
    key = load_flows_key(settings)
    assert key is not None and public_key_to_pem(key) == public


def test_no_key_is_allowed_and_means_flows_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOKET_MODE", "demo")
    assert load_flows_key(load_settings()) is None


def test_a_missing_key_file_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"LOKET_FLOWS_PRIVATE_KEY_FILE: cannot read .*nope\.pem"):
        load_settings(mode=Mode.DEMO, flows_private_key_file=tmp_path / "nope.pem")


def test_a_wrong_passphrase_refuses_to_start_without_echoing_it(tmp_path: Path) -> None:
    write_pkcs1(tmp_path / "flows.pem", b"rahasia")
    with pytest.raises(ConfigError, match="LOKET_FLOWS_PRIVATE_KEY_PASSPHRASE") as err:
        load_settings(mode=Mode.DEMO, flows_private_key_file=tmp_path / "flows.pem", flows_private_key_passphrase="x")
    assert "rahasia" not in str(err.value)


def test_a_passphrase_without_a_file_is_a_mistake() -> None:
    with pytest.raises(ConfigError, match="LOKET_FLOWS_PRIVATE_KEY_FILE is not"):
        load_settings(mode=Mode.DEMO, flows_private_key_passphrase="rahasia")


def test_a_key_readable_by_others_is_loaded_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_pkcs1(tmp_path / "flows.pem", None)
    (tmp_path / "flows.pem").chmod(0o644)
    settings = load_settings(mode=Mode.DEMO, flows_private_key_file=tmp_path / "flows.pem")
    with caplog.at_level(logging.WARNING, logger="loket.flows.keys"):
        assert load_flows_key(settings) is not None
    assert "chmod 600" in caplog.text


def test_the_demo_key_is_made_once_rsa_2048_and_private(tmp_path: Path) -> None:
    path = ensure_demo_flows_key(tmp_path / "var")
    assert path == tmp_path / "var" / DEMO_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    assert load_private_key(first).key_size == 2048
    assert ensure_demo_flows_key(tmp_path / "var").read_bytes() == first
    assert [p.name for p in (tmp_path / "var").iterdir()] == [DEMO_KEY_FILE]


def test_demo_settings_use_the_demo_key_unless_one_is_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    made = demo_settings("127.0.0.1", 8000, var_dir=tmp_path / "var")
    assert made.flows_private_key_file == tmp_path / "var" / DEMO_KEY_FILE
    write_pkcs1(tmp_path / "own.pem", None)
    monkeypatch.setenv("LOKET_FLOWS_PRIVATE_KEY_FILE", str(tmp_path / "own.pem"))
    assert demo_settings("127.0.0.1", 8000, var_dir=tmp_path / "var").flows_private_key_file == tmp_path / "own.pem"
