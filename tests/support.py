"""Test helpers shared across the suite (imported as `support`)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from loket.channel.signature import sign
from loket.db.scope import Scope, SystemReason

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
TEST_MASTER_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
TEST_APP_SECRET = "test-app-secret"
TEST_VERIFY_TOKEN = "test-verify-token"
BANK_PNID = "109876543210001"
INSURER_PNID = "109876543210002"
# The scope of a test's own database handle (seeding, inspecting across tenants): the app under test
# builds its own, strictly scoped one (docs/tenant-isolation.md). `Database(url, default_scope=TEST_SCOPE)`.
TEST_SCOPE = Scope(system=SystemReason.DEMO_SEED)


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def signed(body: bytes, secret: str) -> dict[str, str]:
    return {"X-Hub-Signature-256": sign(body, secret.encode()), "Content-Type": "application/json"}


def text_envelope(
    wamid: str, text: str, *, wa_id: str = "6281234567890", pnid: str = BANK_PNID, timestamp: int = 1764400000
) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000000000001",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "628111500123", "phone_number_id": pnid},
                            "contacts": [{"profile": {"name": "Siti Rahayu"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": wamid,
                                    "timestamp": str(timestamp),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def status_envelope(
    statuses: list[tuple[str, str]], *, pnid: str = BANK_PNID, callback: str | None = None
) -> dict[str, Any]:
    items = []
    for index, (wamid, status) in enumerate(statuses):
        item: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(1764400000 + index),
            "recipient_id": "6281234567890",
            "pricing": {
                "billable": False,
                "pricing_model": "PMP",
                "category": "service",
                "type": "free_customer_service",
            },
        }
        if callback is not None:
            item["biz_opaque_callback_data"] = callback
        if status == "failed":
            item["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
        items.append(item)
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000000000001",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "628111500123", "phone_number_id": pnid},
                            "statuses": items,
                        },
                    }
                ],
            }
        ],
    }
