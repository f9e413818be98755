"""Does an outbound text ask the customer for a secret? (SCM-1, SCM-2)

A stand-in with the signature of `loket.security.dlp.asks_for_secret`, which is being written
separately; the policy gate should switch to that one when it lands. The rule: a request word
("kirim", "berikan", "send", "what is"...) followed within a few words, in the same sentence, by a
secret ("PIN", "OTP", "kata sandi", "CVV", "nama ibu kandung"...), unless a negation or a
hypothetical ("jangan", "tidak pernah", "never", "jika ada yang", "penipu") comes just before the
request word. So the standard warning "Kami tidak pernah meminta PIN atau OTP Anda" passes, and
"Silakan kirim kode OTP Anda" does not.
"""

from __future__ import annotations

import re
import unicodedata

_SENTENCES = re.compile(r"[.!?\n;]+")
_WORDS = re.compile(r"[a-z0-9]+")

_REQUESTS = frozenset(
    # Bahasa Indonesia (informal spellings included)
    "kirim kirimkan kirimin krm berikan beri kasih kasihkan kasi beritahu beritahukan beritau sebutkan sebut "
    "infokan informasikan bagikan balas balaskan ketik ketikkan tulis tuliskan minta meminta mintakan "
    "konfirmasikan verifikasikan berapa "
    # English
    "send share tell give provide reply type forward confirm verify ask asks asking request what whats".split()
)
# Words that, just before the request word, make it a warning or a hypothetical rather than a
# request: "jangan berikan", "never share", "jika ada yang meminta", "penipu meminta".
_NOT_A_REQUEST = frozenset(
    "jangan jgn tidak tdk tak bukan never not no don dont t "
    "jika jikalau kalau bila apabila yang siapa siapapun pihak orang penipu oknum modus "
    "if when whenever anyone someone anybody somebody who scammer scammers fraudster fraudsters".split()
)
_SECRETS_SINGLE = frozenset("pin mpin otp password passwd passcode sandi katasandi cvv cvv2 cvc cvc2 ccv".split())
_SECRETS_MULTI: tuple[tuple[str, ...], ...] = (
    ("m", "pin"),
    ("kata", "sandi"),
    ("kode", "verifikasi"),
    ("kode", "rahasia"),
    ("kode", "keamanan"),
    ("kode", "aktivasi"),
    ("verification", "code"),
    ("security", "code"),
    ("one", "time", "password"),
    ("nama", "ibu", "kandung"),
    ("ibu", "kandung"),
    ("maiden", "name"),
    ("nomor", "kartu"),
    ("no", "kartu"),
    ("card", "number"),
)
_REACH = 6  # words between the request and the secret
_GUARD_REACH = 3  # words before the request that can turn it into a warning


def _secret_positions(words: list[str]) -> list[int]:
    positions = [index for index, word in enumerate(words) if word in _SECRETS_SINGLE]
    for phrase in _SECRETS_MULTI:
        size = len(phrase)
        positions.extend(
            index for index in range(len(words) - size + 1) if tuple(words[index : index + size]) == phrase
        )
    return sorted(positions)


def _asks_in(words: list[str]) -> bool:
    for secret in _secret_positions(words):
        for request in range(max(0, secret - _REACH), secret):
            if words[request] not in _REQUESTS:
                continue
            before = words[max(0, request - _GUARD_REACH) : request]
            if not any(word in _NOT_A_REQUEST for word in before):
                return True
    return False


def asks_for_secret(text: str) -> bool:
    """True when the text asks for a PIN, OTP, password, CVV, card number or mother's maiden name."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return any(_asks_in(_WORDS.findall(sentence)) for sentence in _SENTENCES.split(folded))
