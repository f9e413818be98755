"""Settings from the environment, validated at start-up with errors an operator can act on."""

from __future__ import annotations

import base64
import binascii
import enum
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from loket.channel.flows_crypto import FlowKeyError, load_private_key

DEFAULT_VAR_DIR = Path("var")
DEFAULT_GRAPH_API_URL = "https://graph.facebook.com/v23.0"


class Mode(enum.StrEnum):
    PRODUCTION = "production"
    DEMO = "demo"


class ConfigError(Exception):
    """Start-up refused: the message says which variable to fix and how."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOKET_", extra="ignore", frozen=True)

    mode: Mode = Mode.PRODUCTION
    database_url: str = Field(default="", description="sqlite:///path or postgresql://user@host:port/db")
    redis_url: str | None = None
    graph_api_url: str = DEFAULT_GRAPH_API_URL
    meta_app_secret: str | None = None
    webhook_verify_token: str | None = None
    master_key: str | None = None
    # Root rotation (docs/encryption.md): the old master key(s), comma-separated, until `loket keys rotate` is done.
    master_key_previous: str | None = None
    var_dir: Path = DEFAULT_VAR_DIR
    log_level: str = "INFO"
    log_format: str = "json"
    public_url: str = "http://127.0.0.1:8000"
    core_url: str | None = None
    process_inline: bool = True
    dispatch_inline: bool = True
    graph_timeout_seconds: float = 10.0
    db_pool_size: int = 10
    # Tenant isolation (docs/tenant-isolation.md): the PostgreSQL role to SET ROLE to on connect when the
    # URL's user owns the tables; unset when the URL already names the non-owner application role.
    database_app_role: str | None = None
    # Outbound engine: how many `loket worker` processes share the rates (each paces at 1/N when
    # Redis is down), and the holiday calendar overrides (docs/policy-gate.md).
    worker_count: int = Field(default=1, ge=1, le=1000)
    holiday_calendar_file: Path | None = None
    outbound_pacing: bool = True  # off only when something upstream paces (a BSP) or for benchmarks
    # How long a stopping worker (SIGTERM) lets its requests in flight finish (docs/outbound.md).
    shutdown_grace_seconds: float = Field(default=20.0, ge=0, le=600)
    # Institution events from NATS JetStream (docs/outbound.md): subjects <prefix>.<tenant id>.
    nats_url: str | None = None
    nats_subject_prefix: str = "loket.events"
    # The business RSA key of WhatsApp Flows (PEM, PKCS#1 as Meta's generator writes it, or PKCS#8).
    flows_private_key_file: Path | None = None
    flows_private_key_passphrase: str | None = None
    # Step-up verification (issue 3): how long an approval in the institution's app holds, how long
    # a request waits for the customer's decision, and how often pending requests are re-checked.
    step_up_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    step_up_request_ttl_seconds: int = Field(default=120, ge=1, le=900)
    step_up_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    # Complaints (docs/complaints.md): the office closing hour after which a complaint counts from the
    # next working day, and how often the worker's SLA pass looks for reminders and breaches.
    complaint_office_close_hour: int = Field(default=17, ge=1, le=23)
    complaint_sweep_seconds: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("database_url")
    @classmethod
    def _database_url_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite://", "postgresql://", "postgres://")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("graph_api_url")
    @classmethod
    def _graph_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL including the version, e.g. https://graph.facebook.com/v23.0")
        return value.rstrip("/")

    @field_validator("master_key_previous")
    @classmethod
    def _previous_master_keys_shape(cls, value: str | None) -> str | None:
        if not value:
            return None
        for part in value.split(","):
            cls._master_key_shape(part.strip())
        return value

    @field_validator("master_key")
    @classmethod
    def _master_key_shape(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ValueError("must be 32 random bytes in URL-safe base64") from exc
        if len(raw) != 32:
            raise ValueError(f"must decode to 32 bytes, got {len(raw)}")
        return value

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.mode is Mode.PRODUCTION:
            missing = [
                name
                for name, value in (
                    ("LOKET_META_APP_SECRET", self.meta_app_secret),
                    ("LOKET_WEBHOOK_VERIFY_TOKEN", self.webhook_verify_token),
                    ("LOKET_MASTER_KEY", self.master_key),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    "outside demo mode these must be set: "
                    + ", ".join(missing)
                    + " (or run `loket demo` for the embedded sandbox)"
                )
        return self

    @model_validator(mode="after")
    def _flows_key_readable(self) -> Settings:
        # A configured key that cannot be used is an operator's mistake: refuse at start-up rather than
        # answer every Flow request with 421. No key at all is allowed (Flows are then off).
        if self.flows_private_key_file is None:
            if self.flows_private_key_passphrase:
                raise ValueError("LOKET_FLOWS_PRIVATE_KEY_PASSPHRASE is set but LOKET_FLOWS_PRIVATE_KEY_FILE is not")
            return self
        try:
            pem = self.flows_private_key_file.read_bytes()
        except OSError as exc:
            raise ValueError(
                f"LOKET_FLOWS_PRIVATE_KEY_FILE: cannot read {self.flows_private_key_file} ({exc.strerror})"
            ) from None
        try:
            load_private_key(pem, self.flows_private_key_passphrase or None)
        except FlowKeyError as exc:
            raise ValueError(
                f"LOKET_FLOWS_PRIVATE_KEY_FILE: {exc} (check LOKET_FLOWS_PRIVATE_KEY_PASSPHRASE)"
            ) from None
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'loket.db'}"

    @property
    def master_key_bytes(self) -> bytes:
        if not self.master_key:
            raise ConfigError("LOKET_MASTER_KEY is not set")
        return base64.urlsafe_b64decode(self.master_key + "=" * (-len(self.master_key) % 4))

    @property
    def previous_master_keys_bytes(self) -> tuple[bytes, ...]:
        parts = [part.strip() for part in (self.master_key_previous or "").split(",") if part.strip()]
        return tuple(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in parts)


def load_settings(**overrides: Any) -> Settings:
    """Read the environment; turn validation failures into one readable ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(part) for part in err["loc"]) or "settings"
            name = f"LOKET_{loc.upper()}" if err["loc"] else "configuration"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
