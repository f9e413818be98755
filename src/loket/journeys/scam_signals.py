"""What makes a forwarded message, link, file or number look like a scam. Pure pattern checks;
each finding is a reason the customer is told in plain words.

- executable files (APK and the like: the "undangan pernikahan.apk" family of banking trojans),
- requests for an OTP, PIN, password or CVV (`asks_for_secret`, the policy gate's own check),
- lookalike domains and accounts, unofficial numbers, link shorteners,
- urgency, prizes, the "new transfer fee" scam, remote-access apps, "safe account" transfers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from loket.conversation.turn import MediaView
from loket.journeys.defang import defang, defang_text
from loket.journeys.registry_check import LOOKALIKE, OFFICIAL, Check, Registry, check_text
from loket.security.dlp_outbound import asks_for_secret
from loket.understanding import Entities

EXECUTABLE_EXTENSIONS = frozenset("apk xapk apks aab exe msi bat cmd scr jar vbs js com pif dmg pkg ipa".split())
EXECUTABLE_MIME = frozenset(
    {"application/vnd.android.package-archive", "application/x-msdownload", "application/java-archive"}
)
SHORTENERS = frozenset("bit.ly s.id tinyurl.com cutt.ly shorturl.at t.ly rebrand.ly is.gd ow.ly rb.gy tiny.cc".split())
# In text, only extensions that are not also top-level domains (.com) or common words (.js).
_TEXT_EXTENSIONS = ("apk", "xapk", "apks", "exe", "msi", "bat", "scr", "jar", "vbs", "ipa", "dmg")
_FILE_NAME = re.compile(
    r"(?<![/\w.])[\w\-()]+(?:[ .][\w\-()]+){0,3}\.(?:" + "|".join(_TEXT_EXTENSIONS) + r")\b", re.IGNORECASE
)
_URGENCY = re.compile(
    r"\b(?:segera|secepatnya|dalam\s+\d+\s*(?:jam|menit)|hari\s+ini\s+juga|batas\s+waktu|terakhir\s+hari\s+ini|"
    r"akan\s+(?:di\s*)?(?:blokir|nonaktif|tutup|hangus)|(?:di\s*)?blokir\s+permanen|darurat|urgent|immediately|"
    r"within\s+\d+\s*(?:hours?|minutes?)|will\s+be\s+(?:blocked|suspended|closed)|suspended|final\s+notice)\b",
    re.IGNORECASE,
)
_PRIZE = re.compile(
    r"\b(?:selamat[,!]?\s+anda|pemenang|memenangkan|menang\s+undian|undian|hadiah|cashback\s+\d|bonus\s+saldo|"
    r"gratis\s+(?:pulsa|saldo|uang)|you\s+(?:have\s+)?won|winner|prize|lottery|reward\s+points?\s+expir)\w*",
    re.IGNORECASE,
)
_FEE_SCAM = re.compile(
    r"\b(?:tarif\s+(?:baru|transfer|transaksi)|perubahan\s+tarif|biaya\s+(?:admin\s+)?(?:rp\.?\s*)?150[.,]?000|"
    r"pilih\s+(?:paket|tarif))\b",
    re.IGNORECASE,
)
_REMOTE = re.compile(r"\b(?:anydesk|teamviewer|rustdesk|airdroid|screen\s*shar\w*|berbagi\s+layar)\b", re.IGNORECASE)
_SAFE_ACCOUNT = re.compile(r"\b(?:rekening\s+(?:aman|penampungan|sementara)|safe\s+account)\b", re.IGNORECASE)
_ALREADY = re.compile(
    r"\b(?:sudah|udah|udh|sdh|terlanjur|telanjur|keburu|tadi)\b.{0,25}\b(?:kasih|kasi|ngasih|kirim|ngirim|berikan|"
    r"kasih\s+tau|kasitau|sebut\w*|share|install|instal|pasang|download|unduh|klik|buka|isi)\w*"
    r"|\b(?:already|accidentally|just)\s+(?:gave|give|shared|sent|told|installed|downloaded|clicked|opened|entered)\b"
    r"|\bi\s+(?:gave|shared|sent|told|installed|downloaded|clicked|entered)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ScamReport:
    reasons: tuple[str, ...]  # catalog keys under scam.reasons
    checks: tuple[Check, ...] = ()
    compromised: bool = False
    details: dict[str, str] = field(default_factory=dict)  # values for the reasons' placeholders

    @property
    def suspicious(self) -> bool:
        return bool(self.reasons)


def executable_file(text: str, media: MediaView | None) -> str | None:
    if media is not None:
        name = (media.filename or "").strip()
        extension = name.rsplit(".", 1)[-1].casefold() if "." in name else ""
        if extension in EXECUTABLE_EXTENSIONS or (media.mime_type or "") in EXECUTABLE_MIME:
            return name or media.mime_type or "file"
    match = _FILE_NAME.search(text)
    return match.group(0).strip() if match else None


def already_compromised(text: str) -> bool:
    return bool(_ALREADY.search(text))


def analyse(text: str, entities: Entities | None, media: MediaView | None, registry: Registry) -> ScamReport:
    reasons: list[str] = []
    details: dict[str, str] = {}
    if (name := executable_file(text, media)) is not None:
        reasons.append("executable")
        details["file"] = defang_text(name)
    if text and asks_for_secret(text) is not None:
        reasons.append("asks_secret")
    checks = tuple(check_text(registry, text, entities)) if entities is not None and text else ()
    lookalikes = [c.value for c in checks if c.verdict == LOOKALIKE]
    if lookalikes:
        reasons.append("lookalike")
        details["lookalike"] = ", ".join(defang(value) for value in lookalikes)
    numbers = [c.value for c in checks if c.kind == "number" and c.verdict != OFFICIAL]
    if numbers:
        reasons.append("unofficial_number")
        details["numbers"] = ", ".join(numbers)
    shortened = [c.value for c in checks if c.kind == "site" and c.value in SHORTENERS]
    if shortened:
        reasons.append("shortener")
        details["short"] = ", ".join(defang(value) for value in shortened)
    for key, pattern in (
        ("urgency", _URGENCY),
        ("prize", _PRIZE),
        ("fee_scam", _FEE_SCAM),
        ("remote_access", _REMOTE),
        ("safe_account", _SAFE_ACCOUNT),
    ):
        if text and pattern.search(text):
            reasons.append(key)
    return ScamReport(tuple(reasons), checks, already_compromised(text or ""), details)
