"""Everything the sandbox can be told at start-up. Plain dataclasses: the CLI and tests build them."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loket.channel.limits import DEFAULT_MESSAGES_PER_SECOND, PAIR_RATE_INTERVAL_SECONDS

JsonObject = dict[str, Any]

_USER_NUMBER = re.compile(r"\d{10,15}")


@dataclass(slots=True)
class PhoneNumber:
    """A business phone number registered with the (emulated) Cloud API."""

    phone_number_id: str
    display_phone_number: str
    waba_id: str
    access_token: str
    verified_name: str = "Loket Sandbox"
    messages_per_second: float = DEFAULT_MESSAGES_PER_SECOND
    flow_endpoint_url: str | None = None
    business_public_key_pem: str | None = None


@dataclass(slots=True)
class DemoPhone:
    """A customer's phone in the simulator, chatting with one business number."""

    wa_id: str
    profile_name: str
    phone_number_id: str
    language: str = "id"
    tenant_id: str = ""
    tenant_name: str = ""
    customer_id: str = ""


@dataclass(slots=True)
class SeedTemplate:
    """A template that exists from start-up, as if created and reviewed earlier."""

    waba_id: str
    name: str
    language: str
    category: str
    components: list[JsonObject]
    status: str = "APPROVED"
    parameter_format: str = "POSITIONAL"


@dataclass(slots=True)
class RetryPolicy:
    """Webhook redelivery schedule. Meta does not publish its own (it retries for up to 7 days)."""

    base_seconds: float = 1.0
    factor: float = 2.0
    cap_seconds: float = 600.0
    jitter: float = 0.2
    max_attempts: int = 15

    def delay(self, failed_attempts: int, rng: random.Random) -> float:
        raw = min(self.cap_seconds, self.base_seconds * self.factor ** max(0, failed_attempts - 1))
        return max(0.0, raw * (1.0 + rng.uniform(-self.jitter, self.jitter)))


@dataclass(slots=True)
class FaultSettings:
    """Misbehaviour on demand, for reliability tests. Changeable at run time via `POST /_sandbox/faults`."""

    duplicate_probability: float = 0.0
    reorder_window_seconds: float = 0.0
    delay_seconds: float = 0.0
    graph_5xx_probability: float = 0.0
    graph_429_probability: float = 0.0
    graph_timeout_probability: float = 0.0
    graph_timeout_seconds: float = 30.0

    def update(self, changes: JsonObject) -> None:
        for name, value in changes.items():
            if name not in self.__dataclass_fields__:
                raise ValueError(f"unknown fault setting {name!r}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"fault setting {name!r} must be a non-negative number")
            if name.endswith("_probability") and value > 1:
                raise ValueError(f"fault setting {name!r} is a probability between 0 and 1")
            setattr(self, name, float(value))

    def as_dict(self) -> JsonObject:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def default_is_whatsapp_user(non_whatsapp: frozenset[str]) -> Callable[[str], bool]:
    def is_user(wa_id: str) -> bool:
        return bool(_USER_NUMBER.fullmatch(wa_id)) and wa_id not in non_whatsapp

    return is_user


@dataclass(slots=True)
class SandboxSettings:
    app_secret: str
    webhook_url: str | None = None
    webhook_verify_token: str | None = None
    graph_version: str = "v23.0"
    numbers: list[PhoneNumber] = field(default_factory=list)
    demo_phones: list[DemoPhone] = field(default_factory=list)
    templates: list[SeedTemplate] = field(default_factory=list)
    # Flow JSON documents the simulator can render, by flow_id or flow_name.
    flow_json: dict[str, JsonObject] = field(default_factory=dict)
    default_flow_endpoint_url: str | None = None

    # Meta's pair rate is reported as about one message per 6 s, with short bursts tolerated.
    pair_rate_interval_seconds: float = PAIR_RATE_INTERVAL_SECONDS
    pair_rate_burst: int = 3
    enforce_customer_service_window: bool = True

    template_auto_approve: bool = True
    template_approve_delay_seconds: float = 2.0
    # None: messages are read only when the simulator shows the chat.
    auto_read_delay_seconds: float | None = 3.0
    non_whatsapp_numbers: frozenset[str] = frozenset()
    is_whatsapp_user: Callable[[str], bool] | None = None

    webhook_retry: RetryPolicy = field(default_factory=RetryPolicy)
    webhook_timeout_seconds: float = 10.0
    # Webhooks for one customer go out in order on one lane; lanes run side by side.
    webhook_lanes: int = 4
    delivery_log_size: int = 5000
    faults: FaultSettings = field(default_factory=FaultSettings)
    random_seed: int | None = None

    def number(self, phone_number_id: str) -> PhoneNumber | None:
        for number in self.numbers:
            if number.phone_number_id == phone_number_id:
                return number
        return None

    def user_predicate(self) -> Callable[[str], bool]:
        return self.is_whatsapp_user or default_is_whatsapp_user(self.non_whatsapp_numbers)

    @classmethod
    def example(
        cls,
        app_secret: str = "sandbox-app-secret",  # noqa: S107 - a demo default, never a real secret
        webhook_url: str | None = None,
    ) -> SandboxSettings:
        """One number and two customers: enough to click around without a demo institution."""
        number = PhoneNumber(
            phone_number_id="100000000000001",
            display_phone_number="6281100000001",
            waba_id="200000000000001",
            access_token="sandbox-token",  # noqa: S106
            verified_name="Bank Contoh",
        )
        phones = [
            DemoPhone("6281234567801", "Siti Rahayu", number.phone_number_id, "id", "bank-contoh", "Bank Contoh"),
            DemoPhone("6281234567802", "Budi Santoso", number.phone_number_id, "en", "bank-contoh", "Bank Contoh"),
        ]
        return cls(app_secret=app_secret, webhook_url=webhook_url, numbers=[number], demo_phones=phones)
