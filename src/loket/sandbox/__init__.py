"""An offline emulator of the WhatsApp Cloud API, with a phone simulator page.

Same paths, bodies, error envelopes and signed webhooks as Meta's Cloud API, and the same rules
(24-hour window, template review, throughput and pair rate, media expiry), so Loket and the institutions
that use it can develop and test without a Meta account. See docs/reference whatsapp-cloud-api.md.
"""

from __future__ import annotations

from loket.sandbox.app import SandboxRuntime, build_sandbox_app, run_sandbox, sandbox_runtime
from loket.sandbox.settings import (
    DemoPhone,
    FaultSettings,
    PhoneNumber,
    RetryPolicy,
    SandboxSettings,
    SeedTemplate,
)

__all__ = [
    "DemoPhone",
    "FaultSettings",
    "PhoneNumber",
    "RetryPolicy",
    "SandboxRuntime",
    "SandboxSettings",
    "SeedTemplate",
    "build_sandbox_app",
    "run_sandbox",
    "sandbox_runtime",
]
