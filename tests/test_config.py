from __future__ import annotations

import pytest

from loket.config import ConfigError, Mode, load_settings

KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "LOKET_META_APP_SECRET",
        "LOKET_WEBHOOK_VERIFY_TOKEN",
        "LOKET_MASTER_KEY",
        "LOKET_MODE",
        "LOKET_DATABASE_URL",
        "LOKET_GRAPH_API_URL",
        "LOKET_REDIS_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_production_refuses_to_start_without_app_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOKET_WEBHOOK_VERIFY_TOKEN", "vt")
    monkeypatch.setenv("LOKET_MASTER_KEY", KEY)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "LOKET_META_APP_SECRET" in str(err.value)
    assert "LOKET_MASTER_KEY" not in str(err.value)


def test_demo_mode_needs_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOKET_MODE", "demo")
    settings = load_settings()
    assert settings.mode is Mode.DEMO
    assert settings.effective_database_url.startswith("sqlite:///")


def test_environment_names_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOKET_META_APP_SECRET", "s")
    monkeypatch.setenv("LOKET_WEBHOOK_VERIFY_TOKEN", "vt")
    monkeypatch.setenv("LOKET_MASTER_KEY", KEY)
    monkeypatch.setenv("LOKET_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/loket")
    monkeypatch.setenv("LOKET_GRAPH_API_URL", "http://127.0.0.1:8000/sandbox/v23.0/")
    monkeypatch.setenv("LOKET_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = load_settings()
    assert settings.database_url.startswith("postgresql://")
    assert settings.graph_api_url == "http://127.0.0.1:8000/sandbox/v23.0"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert len(settings.master_key_bytes) == 32


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("LOKET_MASTER_KEY", "c2hvcnQ", "32 bytes"),
        ("LOKET_MASTER_KEY", "not base64 !!", "LOKET_MASTER_KEY"),
        ("LOKET_DATABASE_URL", "mysql://x", "LOKET_DATABASE_URL"),
        ("LOKET_GRAPH_API_URL", "graph.example.test/v23.0", "LOKET_GRAPH_API_URL"),
    ],
)
def test_bad_values_get_clear_errors(monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str) -> None:
    monkeypatch.setenv("LOKET_MODE", "demo")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert fragment in str(err.value)
