"""Everything the sandbox remembers, in memory, and the few operations that touch several stores."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from loket.clock import Clock, FakeClock
from loket.sandbox import payloads
from loket.sandbox.chats import ChatMessage, ChatStore
from loket.sandbox.delivery import Delivery, WebhookDispatcher
from loket.sandbox.errors import ACCESS_TOKEN, GraphError
from loket.sandbox.events import EventLog
from loket.sandbox.media_store import MediaStore
from loket.sandbox.ratelimit import Gcra
from loket.sandbox.scheduler import Scheduler
from loket.sandbox.settings import DemoPhone, PhoneNumber, SandboxSettings
from loket.sandbox.template_store import Template, TemplateStore

JsonObject = dict[str, Any]


class SandboxState:
    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.rng = random.Random(settings.random_seed)
        self.events = EventLog()
        self.scheduler = Scheduler(clock)
        self.dispatcher = WebhookDispatcher(settings, clock, self.events, self.rng)
        self.chats = ChatStore()
        self.media = MediaStore(clock)
        self.templates = TemplateStore()
        self.limiter = Gcra()
        self.numbers: dict[str, PhoneNumber] = {n.phone_number_id: n for n in settings.numbers}
        self.phones: dict[tuple[str, str], DemoPhone] = {}
        for phone in settings.demo_phones:
            self.add_phone(phone)
        self.business_keys: dict[str, str] = {
            n.phone_number_id: n.business_public_key_pem for n in settings.numbers if n.business_public_key_pem
        }
        self.registered: set[str] = set()
        self.open_chats: Counter[tuple[str, str]] = Counter()
        self.is_whatsapp_user = settings.user_predicate()
        self._seed_templates()

    @property
    def fake_clock(self) -> FakeClock | None:
        return self.clock if isinstance(self.clock, FakeClock) else None

    def _seed_templates(self) -> None:
        for seed in self.settings.templates:
            body = {
                "name": seed.name,
                "language": seed.language,
                "category": seed.category,
                "components": seed.components,
                "parameter_format": seed.parameter_format,
            }
            self.templates.create(seed.waba_id, body, self.clock.now(), status=seed.status)

    # ------------------------------------------------------------ numbers, tokens and phones

    def add_number(self, number: PhoneNumber) -> None:
        self.numbers[number.phone_number_id] = number
        if number.business_public_key_pem:
            self.business_keys[number.phone_number_id] = number.business_public_key_pem

    def add_phone(self, phone: DemoPhone) -> None:
        self.phones[(phone.phone_number_id, phone.wa_id)] = phone
        self.chats.chat(phone.phone_number_id, phone.wa_id, phone.profile_name)

    def phone(self, phone_number_id: str, wa_id: str) -> DemoPhone | None:
        return self.phones.get((phone_number_id, wa_id))

    def phone_for(self, wa_id: str) -> DemoPhone | None:
        return next((phone for phone in self.phones.values() if phone.wa_id == wa_id), None)

    def authorise(self, token: str | None, number: PhoneNumber) -> None:
        if token is None or token != number.access_token:
            raise GraphError(ACCESS_TOKEN, "The access token is missing or does not belong to this number.")

    def authorise_waba(self, token: str | None, waba_id: str) -> None:
        if not any(n.waba_id == waba_id and n.access_token == token for n in self.numbers.values()):
            raise GraphError(ACCESS_TOKEN, "The access token is missing or has no access to this account.")

    def authorise_any(self, token: str | None) -> list[PhoneNumber]:
        """The numbers this token may act for; a 190 when it is none of them."""
        owned = [n for n in self.numbers.values() if token is not None and n.access_token == token]
        if not owned:
            raise GraphError(ACCESS_TOKEN, "The access token is missing or invalid.")
        return owned

    def waba_ids(self) -> set[str]:
        return {n.waba_id for n in self.numbers.values()}

    # ------------------------------------------------------------ webhooks and events

    def send_status(self, message: ChatMessage, status: str) -> Delivery | None:
        number = self.numbers.get(message.phone_number_id)
        if number is None or not message.advance(status, self.clock.now()):
            return None
        envelope = payloads.status(number, message, status, self.clock.now())
        summary = {"kind": "status", "id": message.id, "status": status}
        delivery = self.dispatcher.submit(envelope, _lane(message.phone_number_id, message.wa_id), summary)
        self.events.publish("status", {"message": message.as_dict()})
        return delivery

    def send_inbound(self, number: PhoneNumber, profile_name: str, message: ChatMessage) -> Delivery:
        self.chats.add(message)
        envelope = payloads.inbound_message(number, profile_name, message.wa_id, message.payload)
        summary = {"kind": "message", "id": message.id, "type": message.type}
        delivery = self.dispatcher.submit(envelope, _lane(number.phone_number_id, message.wa_id), summary)
        self.events.publish("message", {"message": message.as_dict()})
        return delivery

    def set_template_status(self, template: Template, status: str, reason: str = "NONE") -> Delivery | None:
        if template.status == status:
            return None
        now = self.clock.now()
        template.status = status
        template.rejected_reason = reason if status == "REJECTED" else "NONE"
        template.history.append((status, now))
        envelope = payloads.template_status(template, status, reason, now)
        summary = {"kind": "template", "id": template.id, "status": status}
        delivery = self.dispatcher.submit(envelope, f"waba:{template.waba_id}", summary)
        self.events.publish("template", {"template": template.as_dict()})
        return delivery

    def submit_template(self, waba_id: str, body: JsonObject) -> Template:
        template = self.templates.create(waba_id, body, self.clock.now())
        self.events.publish("template", {"template": template.as_dict()})
        if self.settings.template_auto_approve:
            template_id = template.id

            def approve() -> None:
                current = self.templates.get(template_id)
                if current is not None and current.status == "PENDING":
                    self.set_template_status(current, "APPROVED")

            self.scheduler.call_later(self.settings.template_approve_delay_seconds, approve)
        return template

    def reset(self) -> None:
        """Forget conversations, media, sends and deliveries; keep numbers, phones and templates."""
        self.chats.clear()
        self.media.clear()
        self.limiter.clear()
        self.dispatcher.clear()
        self.events.clear()
        for phone in self.phones.values():
            self.chats.chat(phone.phone_number_id, phone.wa_id, phone.profile_name)


def _lane(phone_number_id: str, wa_id: str) -> str:
    return f"{phone_number_id}:{wa_id}"
