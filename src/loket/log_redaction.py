"""The last line of defence against personal data in logs: masks what looks like it on the way out.

The rule is at the source: log ids and counts, never names, numbers or message bodies
(docs/style.md; tests/test_logs_pii.py drives every journey and checks). This processor is the
safety net for what slips through anyway, in Loket's lines and in libraries' (an exception that
quotes SQL parameters, a URL with a number in it): e-mail addresses, phone, card and account
numbers, i.e. runs of 9 or more digits, plain or grouped with spaces or hyphens, and WhatsApp
message ids (`wamid.`...), which embed the customer's number in base64 and are logged as a digest.
Names do not regex well; they are kept out at the source only.

Values under keys that are known to be ids or times are left alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A digit run not glued to a word (ids like wamid.HBg... or hex keep their digits), optionally grouped.
NUMBER = re.compile(r"(?<![A-Za-z0-9_.])\+?\d(?:[ \-]?\d){8,}(?![A-Za-z0-9_])")
# Meta's message ids carry the customer's number in base64 (wamid.HBgM<base64 of 628...>): an id
# that is personal data. Logged as a digest, the same for the same id, so lines still correlate.
WAMID = re.compile(r"wamid\.[A-Za-z0-9_\-+/=]+")
EMAIL_MASK = "[email]"
NUMBER_MASK = "[number]"
_KEEP = frozenset({"timestamp", "level", "logger", "logger_name", "phone_number_id", "waba_id", "tenant", "tenant_id"})
_MAX_DEPTH = 4
_ID_PREFIXES = ("phone_number_id=", "phone_number_id ", "waba_id=", "waba_id ")


def redact_text(text: str) -> str:
    if "@" in text:
        text = EMAIL.sub(EMAIL_MASK, text)
    if "wamid." in text:
        text = WAMID.sub(_wamid_digest, text)
    return NUMBER.sub(_mask_number, text)


def wamid_digest(wamid: str) -> str:
    """How a message id appears in the logs; hash an id from Meta the same way to find its lines."""
    return "wamid#" + hashlib.sha256(wamid.encode()).hexdigest()[:16]


def _wamid_digest(match: re.Match[str]) -> str:
    return wamid_digest(match.group(0))


def _mask_number(match: re.Match[str]) -> str:
    before = match.string[max(0, match.start() - 20) : match.start()]
    if before.endswith(_ID_PREFIXES):  # "phone_number_id=1098...": the business number's id, not a person's
        return match.group(0)
    return NUMBER_MASK


def _redact(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {k: v if k in _KEEP else _redact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact(v, depth + 1) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**8:
        return NUMBER_MASK
    return value


def redact_event(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask e-mail addresses and long numbers in every value but ids and times."""
    for key, value in list(event_dict.items()):
        if key not in _KEEP and not key.startswith("_"):
            event_dict[key] = _redact(value, 0)
    return event_dict
