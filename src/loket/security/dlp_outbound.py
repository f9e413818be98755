"""The outbound half of the secret shield: does a message *ask* the customer for a secret?

The policy gate runs every reply through `asks_for_secret` before it is queued, because Loket never
asks for a PIN, OTP, password, CVV or full card number in chat. The same check tells the scam-check
journey that a forwarded message is fishing for codes.

A request is a request verb ("kirimkan", "sebutkan", "share", "enter", "what is your ...") and a
secret within one clause (clauses end at . ! ? ; , or a line break). Warnings are not requests: the
clause is skipped when a negation ("jangan", "tidak pernah", "never", "do not") or a third party
("siapa pun", "anyone", "penipu", "jika", "if") comes before the verb, so "jangan berikan PIN/OTP
kepada siapa pun" and "we will never ask for your PIN" pass. Instructions to type a PIN into the
institution's app or an ATM ("masukkan PIN di aplikasi") are not chat requests either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from loket.security.dlp import Finding, Kind

_I = re.IGNORECASE

_SECRETS: tuple[tuple[Kind, str], ...] = (
    (
        Kind.CVV,
        r"cvv2?|cvc2?|kode\s+keamanan\s+kartu|security\s+code|(?:3|tiga)\s+(?:digit|angka)\s+(?:di\s+)?belakang",
    ),
    (Kind.PIN, r"m-?pin|pin(?:\s+(?:atm|kartu|anda|kamu|mu|nya))?|pinnya"),
    (Kind.PASSWORD, r"password(?:nya)?|passcode|kata\s+sandi(?:nya)?|sandi(?:nya)?|kata\s+kunci"),
    (Kind.CARD_NUMBER, r"nomor\s+kartu\s+lengkap|(?:full|complete)\s+card\s+number|16\s+digit\s+(?:nomor\s+)?kartu"),
    (
        Kind.OTP,
        r"otp(?:nya)?|one[\s-]?time\s+(?:password|code|pin)|(?:kode|code)\s+(?:otp|verifikasi|verification|aktivasi"
        r"|activation|konfirmasi|confirmation|rahasia|token|sms|keamanan|security|akses|access)"
        r"|kode(?:nya)?\s+(?:yang|yg)\s+(?:kami\s+kirim\w*|dikirim\w*|masuk|diterima|anda\s+terima|baru\s+saja)"
        r"|(?:the\s+)?code\s+(?:(?:that\s+)?(?:we|i)\s+(?:just\s+)?sent|you\s+(?:just\s+)?(?:got|received)|from\s+(?:the\s+)?sms)"
        r"|(?<!last\s)(?:\d|enam|empat|six|four)[\s-]*digits?(?!\s+(?:terakhir|belakang|akhir|pertama|awal)\b)"
        r"(?:\s+(?:kode|angka|code|number))?"
        r"|kode\s+(?:\d|enam|empat)\s*digit|m-?token|token|tac",
    ),
)
_SECRET = re.compile("|".join(f"(?P<{kind.value}>\\b(?:{pattern})\\b)" for kind, pattern in _SECRETS), _I)

_VERB = re.compile(
    r"\b(?:kirim(?:kan|in)?|berikan|beri(?:kan)?|kasih(?:kan|tau|tahu)?|sebut(?:kan)?|masuk(?:k)?an|ketik(?:kan)?"
    r"|balas(?:\s+dengan)?|infokan|informasikan|beri\s*tahu(?:kan)?|bagikan|tulis(?:kan)?|isi(?:kan)?|input(?:kan)?"
    r"|konfirmasi(?:kan)?|verifikasi(?:kan)?|minta|meminta|memerlukan|perlu|butuh|teruskan|bacakan|share|send|tell"
    r"|give|provide|enter|type|reply(?:\s+with)?|confirm|verify|forward|read\s+out|need|require|ask(?:s|ing)?\s+(?:you\s+)?for"
    r"|di(?:kirim(?:kan)?|berikan|sebutkan|ketik(?:kan)?|masukkan|infokan|informasikan|bagikan|share|forward|teruskan))\b",
    _I,
)
_QUESTION = re.compile(
    r"\b(?:berapa|apa)\s+(?:(?:kode|nomor)\s+)?(?P<noun>[\w\s-]{2,30}?)\s*(?:anda|kamu|mu|nya|bapak|ibu)\b"
    r"|\bwhat(?:'s|\s+is|\s+was)\s+(?:your|the)\s+(?P<noun_en>[\w\s-]{2,30}?)\s*(?:\?|$)",
    _I,
)
_NOT_A_REQUEST = re.compile(
    r"\b(?:jangan|janganlah|tidak|tak|bukan|tidak\s+pernah|tdk|gak|ga|nggak|never|not|don'?t|doesn'?t|won'?t|no"
    r"|siapa\s*pun|siapapun|anyone|anybody|someone|nobody|no\s+one|seseorang|orang\s+lain|pihak\s+lain|penipu"
    r"|scammers?|fraudsters?|oknum|jika|kalau|apabila|bila|if|when(?:ever)?|hati-hati|waspada|beware)\b",
    _I,
)
_ELSEWHERE = re.compile(
    r"\W*(?:\w+\s+){0,3}?(?:di|pada|ke\s+dalam|in|into|on|at)\s+(?:the\s+)?(?:aplikasi|app|mesin\s+atm|atm|edc"
    r"|mobile\s+banking|internet\s+banking|situs\s+resmi)\b",
    _I,
)
_CLAUSE = re.compile(r"[^.!?;,\n]+")


def _last(matches: Iterator[re.Match[str]]) -> re.Match[str] | None:
    found = None
    for found in matches:  # noqa: B007 - only the last one is wanted
        pass
    return found


def _kind(match: re.Match[str]) -> Kind:
    return Kind(match.lastgroup or Kind.OTP.value)


def asks_for_secret(text: str) -> Finding | None:
    """The first clause of `text` that asks for a PIN, OTP, password, CVV or card number, or None."""
    for clause in _CLAUSE.finditer(text):
        body, offset = clause.group(0), clause.start()
        for verb in _VERB.finditer(body):
            if _NOT_A_REQUEST.search(body, 0, verb.start()):
                break
            if verb.group(0).casefold().startswith("di"):  # passive: "kode OTP-nya tolong dikirim"
                secret = _last(_SECRET.finditer(body, max(0, verb.start() - 60), verb.start()))
            else:
                secret = _SECRET.search(body, verb.end(), min(len(body), verb.end() + 60))
            if secret is None or _ELSEWHERE.match(body, max(secret.end(), verb.end())):
                continue
            start, end = min(verb.start(), secret.start()), max(verb.end(), secret.end())
            return Finding(_kind(secret), offset + start, offset + end, 0.9)
        question = _QUESTION.search(body)
        if question and not _NOT_A_REQUEST.search(body, 0, question.start()):
            noun = _SECRET.search(question.group(0))
            if noun is not None:
                return Finding(_kind(noun), offset + question.start(), offset + question.end(), 0.8)
    return None
