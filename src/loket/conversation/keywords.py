"""A first, deliberately small understanding of free text: greetings, menu, balance, help.

The trained intent classifier replaces this; until then these word lists cover the common
everyday spellings (including typos and abbreviations) of the few things the bot can do.
"""

from __future__ import annotations

import enum
import re
import unicodedata


class Intent(enum.StrEnum):
    GREETING = "greeting"
    MENU = "menu"
    BALANCE = "balance"
    POLICIES = "policies"
    HELP = "help"
    UNKNOWN = "unknown"


_WORDS: dict[Intent, frozenset[str]] = {
    Intent.BALANCE: frozenset({"saldo", "sldo", "saldonya", "balance", "blnc", "duit", "cek saldo"}),
    Intent.POLICIES: frozenset({"polis", "polisku", "policy", "policies", "asuransi"}),
    Intent.HELP: frozenset({"bantuan", "help", "tolong", "bantu"}),
    Intent.MENU: frozenset({"menu", "mulai", "start", "layanan"}),
    Intent.GREETING: frozenset(
        {
            "halo",
            "hallo",
            "helo",
            "hai",
            "hi",
            "hello",
            "hey",
            "pagi",
            "siang",
            "sore",
            "malam",
            "assalamualaikum",
            "permisi",
            "p",
            "selamat",
            "good",
        }
    ),
}
_ORDER = (Intent.BALANCE, Intent.POLICIES, Intent.HELP, Intent.MENU, Intent.GREETING)
_TOKEN = re.compile(r"[a-z]+")


def tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return _TOKEN.findall(folded)


def detect(text: str | None) -> Intent:
    if not text:
        return Intent.UNKNOWN
    words = tokens(text)
    if not words:
        return Intent.UNKNOWN
    joined = " ".join(words)
    for intent in _ORDER:
        vocabulary = _WORDS[intent]
        if any(word in vocabulary for word in words) or joined in vocabulary:
            return intent
    return Intent.UNKNOWN
