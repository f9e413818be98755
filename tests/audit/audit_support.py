"""Constants shared by the audit tests."""

from __future__ import annotations

import base64

MASTER = bytes(range(32))  # the suite's test master key (tests/conftest.py)
MASTER_KEY_TEXT = base64.urlsafe_b64encode(MASTER).decode()
ORIGIN_BASE = "loket.test"
